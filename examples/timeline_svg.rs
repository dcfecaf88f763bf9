//! Draws a timeline file (from `examples/timeline.rs` or
//! `chan::observe::Timeline::save`) as an SVG picture: one track per
//! thread, a bar per wait, a tick per wake-up and an arrow from each waker
//! to the wait it ended. It reads only the trace-event JSON, so the picture
//! shows what the file holds.
//!
//! ```text
//! cargo run --example timeline -- out.json
//! cargo run --example timeline_svg -- out.json docs/timeline.svg
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

const LEFT: f64 = 120.0;
const WIDTH: f64 = 1000.0;
const TRACK: f64 = 46.0;
const BAR: f64 = 22.0;
const TOP: f64 = 48.0;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(input), Some(output)) = (args.next(), args.next()) else {
        eprintln!("usage: timeline_svg IN.json OUT.svg");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(&input).unwrap_or_else(|e| fail(&format!("cannot read {input}: {e}")));
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| fail(&format!("{input} is not JSON: {e}")));
    let events = doc["traceEvents"].as_array().unwrap_or_else(|| fail("no traceEvents array"));
    let svg = draw(events);
    std::fs::write(&output, svg).unwrap_or_else(|e| fail(&format!("cannot write {output}: {e}")));
    println!("drew {output}");
}

fn fail(why: &str) -> ! {
    eprintln!("timeline_svg: {why}");
    std::process::exit(1);
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

fn draw(events: &[Value]) -> String {
    // Tracks in the order the file names them.
    let mut names = BTreeMap::new();
    for e in events.iter().filter(|e| e["ph"] == "M" && e["name"] == "thread_name") {
        names.insert(e["tid"].as_u64().unwrap_or(0), e["args"]["name"].as_str().unwrap_or("?").to_string());
    }
    let slices: Vec<&Value> = events.iter().filter(|e| e["ph"] == "X").collect();
    let mut tracks: Vec<u64> = Vec::new();
    for s in &slices {
        let tid = s["tid"].as_u64().unwrap_or(0);
        if !tracks.contains(&tid) {
            tracks.push(tid);
        }
    }
    tracks.sort_by_key(|tid| {
        // Pipeline order reads best: the thread whose first wait comes first on top.
        slices.iter().filter(|s| s["tid"].as_u64() == Some(*tid)).map(|s| num(&s["ts"])).fold(f64::MAX, f64::min) as i64
    });
    let end = slices.iter().map(|s| num(&s["ts"]) + num(&s["dur"])).fold(0.0, f64::max).max(1.0);
    let x = |us: f64| LEFT + us / end * WIDTH;
    let y = |tid: u64| TOP + tracks.iter().position(|t| *t == tid).unwrap_or(0) as f64 * TRACK;
    let height = TOP + tracks.len() as f64 * TRACK + 62.0;

    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" viewBox="0 0 {w} {height}" font-family="sans-serif" font-size="12">
<defs><marker id="head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#c0392b"/></marker></defs>
<rect width="100%" height="100%" fill="white"/>
<text x="{LEFT}" y="20" font-size="14" font-weight="bold">chan timeline: each bar is a blocked operation, each red arrow runs from the thread that woke it</text>
"##,
        w = LEFT + WIDTH + 30.0
    );
    // Time axis, every 10 ms.
    let axis_y = TOP + tracks.len() as f64 * TRACK + 8.0;
    let mut ms = 0.0;
    while ms * 1000.0 <= end {
        let _ = writeln!(
            svg,
            r##"<line x1="{0:.1}" y1="{1:.1}" x2="{0:.1}" y2="{2:.1}" stroke="#ddd"/><text x="{0:.1}" y="{3:.1}" text-anchor="middle" fill="#555">{4} ms</text>"##,
            x(ms * 1000.0),
            TOP - 6.0,
            axis_y,
            axis_y + 16.0,
            ms
        );
        ms += 10.0;
    }
    for &tid in &tracks {
        let name = names.get(&tid).map_or("?", String::as_str);
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" font-weight="bold">{}</text><line x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#999"/>"##,
            LEFT - 8.0,
            y(tid) + BAR / 2.0 + 4.0,
            escape(name),
            y(tid) + BAR,
            LEFT + WIDTH,
            y(tid) + BAR
        );
    }
    for s in &slices {
        let tid = s["tid"].as_u64().unwrap_or(0);
        let (ts, dur) = (num(&s["ts"]), num(&s["dur"]));
        let name = s["name"].as_str().unwrap_or("?");
        if name == "wake" {
            let _ = writeln!(
                svg,
                r##"<rect x="{:.1}" y="{:.1}" width="2" height="{BAR}" fill="#222"/>"##,
                x(ts) - 1.0,
                y(tid)
            );
            continue;
        }
        let color = match name {
            "send" => "#f0a030",
            "recv" => "#4a90d9",
            _ => "#9b59b6",
        };
        let w = (x(ts + dur) - x(ts)).max(1.0);
        let title = format!(
            "{name} on {} {} at {}: {:.2} ms, {}",
            s["args"]["flavor"].as_str().unwrap_or(""),
            s["args"]["channel"].as_str().unwrap_or(""),
            s["args"]["at"].as_str().unwrap_or(""),
            dur / 1000.0,
            s["args"]["outcome"].as_str().unwrap_or("")
        );
        let _ = writeln!(
            svg,
            r##"<rect x="{:.1}" y="{:.1}" width="{w:.1}" height="{BAR}" fill="{color}" stroke="white" stroke-width="0.5"><title>{}</title></rect>"##,
            x(ts),
            y(tid),
            escape(&title)
        );
        if w > 34.0 {
            let _ = writeln!(
                svg,
                r##"<text x="{:.1}" y="{:.1}" fill="white" font-size="11">{name}</text>"##,
                x(ts) + 3.0,
                y(tid) + BAR / 2.0 + 4.0
            );
        }
    }
    // Arrows: each flow's tail ("s") to its head ("f").
    let heads: BTreeMap<String, &Value> =
        events.iter().filter(|e| e["ph"] == "f").map(|e| (e["id"].to_string(), e)).collect();
    for tail in events.iter().filter(|e| e["ph"] == "s") {
        let Some(head) = heads.get(&tail["id"].to_string()) else { continue };
        let (t_tid, h_tid) = (tail["tid"].as_u64().unwrap_or(0), head["tid"].as_u64().unwrap_or(0));
        let (x1, x2) = (x(num(&tail["ts"])), x(num(&head["ts"])));
        let (y1, y2) = if y(t_tid) < y(h_tid) { (y(t_tid) + BAR, y(h_tid)) } else { (y(t_tid), y(h_tid) + BAR) };
        let _ = writeln!(
            svg,
            r##"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="#c0392b" stroke-width="1.2" marker-end="url(#head)"/>"##
        );
    }
    // Legend.
    let ly = height - 8.0;
    for (i, (label, color)) in
        [("send", "#f0a030"), ("recv", "#4a90d9"), ("select", "#9b59b6"), ("wake", "#222")].iter().enumerate()
    {
        let lx = LEFT + i as f64 * 110.0;
        let _ = writeln!(
            svg,
            r##"<rect x="{lx:.1}" y="{:.1}" width="14" height="10" fill="{color}"/><text x="{:.1}" y="{ly:.1}">{label}</text>"##,
            ly - 9.0,
            lx + 18.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
