// Go's native channels on the comparison's scenarios. Run by
// `cargo bench --bench compare` when `go` is installed; prints one line per
// result: "<scenario> <capacity> <median ns per message> <fastest>", over
// RUNS runs. Go has no unbounded
// channel, so that capacity is left out.
//
// Usage: go run main.go MESSAGES RUNS N [THREADS]
package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Threads per side (and channels per select); the fifth argument changes
// it. The selects are written out for 4 channels, so they run only at 4.
var threads = 4

func run(scenario string, capacity int, unbounded bool, messages int) (float64, bool) {
	if unbounded {
		// Go has no unbounded channel.
		return 0, false
	}
	ch := make(chan int, capacity)
	start := time.Now()
	switch scenario {
	case "seq":
		if capacity == 0 {
			return 0, false
		}
		for done := 0; done < messages; {
			n := capacity
			if messages-done < n {
				n = messages - done
			}
			for i := 0; i < n; i++ {
				ch <- i
			}
			for i := 0; i < n; i++ {
				<-ch
			}
			done += n
		}
	case "spsc":
		go func() {
			for i := 0; i < messages; i++ {
				ch <- i
			}
		}()
		for i := 0; i < messages; i++ {
			<-ch
		}
	case "mpsc", "mpmc":
		per := messages / threads
		var wg sync.WaitGroup
		for t := 0; t < threads; t++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < per; i++ {
					ch <- i
				}
			}()
		}
		if scenario == "mpsc" {
			for i := 0; i < per*threads; i++ {
				<-ch
			}
		} else {
			for t := 0; t < threads; t++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < per; i++ {
						<-ch
					}
				}()
			}
		}
		wg.Wait()
	case "select_rx", "select_both":
		// One channel per thread; every select covers all four, written
		// out as a program would write them.
		c0, c1, c2, c3 := ch, make(chan int, capacity), make(chan int, capacity), make(chan int, capacity)
		per := messages / threads
		var wg sync.WaitGroup
		receive := func() {
			select {
			case <-c0:
			case <-c1:
			case <-c2:
			case <-c3:
			}
		}
		if scenario == "select_rx" {
			for _, c := range []chan int{c0, c1, c2, c3} {
				wg.Add(1)
				go func(c chan int) {
					defer wg.Done()
					for i := 0; i < per; i++ {
						c <- i
					}
				}(c)
			}
			for i := 0; i < per*threads; i++ {
				receive()
			}
		} else {
			for t := 0; t < threads; t++ {
				wg.Add(2)
				go func() {
					defer wg.Done()
					for i := 0; i < per; i++ {
						select {
						case c0 <- i:
						case c1 <- i:
						case c2 <- i:
						case c3 <- i:
						}
					}
				}()
				go func() {
					defer wg.Done()
					for i := 0; i < per; i++ {
						receive()
					}
				}()
			}
		}
		wg.Wait()
	}
	return float64(time.Since(start).Nanoseconds()) / float64(messages), true
}

func main() {
	messages, _ := strconv.Atoi(os.Args[1])
	runs, _ := strconv.Atoi(os.Args[2])
	n, _ := strconv.Atoi(os.Args[3])
	if len(os.Args) > 4 {
		if t, err := strconv.Atoi(os.Args[4]); err == nil && t > 0 {
			threads = t
		}
	}
	caps := []struct {
		name      string
		capacity  int
		unbounded bool
	}{{"bounded(0)", 0, false}, {"bounded(1)", 1, false}, {"bounded(N)", n, false}, {"unbounded", 0, true}}
	for _, scenario := range []string{"seq", "spsc", "mpsc", "mpmc", "select_rx", "select_both"} {
		for _, c := range caps {
			m := messages
			if c.capacity == 0 && !c.unbounded {
				m = messages / 10
			}
			if threads != 4 && (scenario == "select_rx" || scenario == "select_both") {
				continue
			}
			var samples []float64
			for r := 0; r < runs; r++ {
				ns, ok := run(scenario, c.capacity, c.unbounded, m)
				if !ok {
					break
				}
				samples = append(samples, ns)
			}
			if len(samples) > 0 {
				sort.Float64s(samples)
				k := len(samples)
				median := samples[k/2]
				if k%2 == 0 {
					median = (samples[k/2-1] + samples[k/2]) / 2
				}
				fmt.Printf("%s %s %.1f %.1f\n", scenario, c.name, median, samples[0])
			}
		}
	}
}
