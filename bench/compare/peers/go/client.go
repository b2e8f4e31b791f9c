// bench/compare/peers/go/client.go — Go's http.Client as a load generator beside corio's client:
// `connections` goroutines share one client whose Transport keeps that many connections per host
// alive (the default keeps 2 idle), each doing sequential GETs and reading the whole body, for
// `seconds` after a warm-up that is not counted.
//
//	client --url http://127.0.0.1:P/ [--connections 64] [--seconds 5] [--warmup 1]
//
// Standard library only; GOMAXPROCS from the environment (the run script sets 1: the client is
// pinned to one CPU). Prints one JSON line as compare_corio_client does: requests, seconds,
// cpu_seconds (this process, over the measured part), p50_ms, p99_ms, errors.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"sync"
	"syscall"
	"time"
)

func cpuSeconds() float64 {
	var u syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return float64(u.Utime.Sec+u.Stime.Sec) + float64(u.Utime.Usec+u.Stime.Usec)*1e-6
}

type worker struct {
	latencies []float64
	errors    int
	failure   error
}

// phase runs every worker's loop until deadline; record keeps latencies.
func phase(client *http.Client, url string, workers []worker, deadline time.Time, record bool) {
	want := []byte("Hello, World!")
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func(w *worker) {
			defer wg.Done()
			for time.Now().Before(deadline) {
				start := time.Now()
				resp, err := client.Get(url)
				if err != nil {
					w.failure = err
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					w.failure = err
					return
				}
				if resp.StatusCode != 200 || !bytes.Equal(body, want) {
					w.errors++
				}
				if record {
					w.latencies = append(w.latencies, time.Since(start).Seconds())
				}
			}
		}(&workers[i])
	}
	wg.Wait()
}

func main() {
	url := flag.String("url", "", "URL to GET")
	connections := flag.Int("connections", 64, "requests in flight")
	seconds := flag.Float64("seconds", 5, "measured duration")
	warmup := flag.Float64("warmup", 1, "warm-up duration (not counted)")
	flag.Parse()
	if *url == "" || *connections < 1 || *seconds <= 0 {
		fmt.Fprintln(os.Stderr, "usage: client --url URL [--connections 64] [--seconds 5] [--warmup 1]")
		os.Exit(2)
	}
	transport := &http.Transport{
		MaxIdleConns:        *connections,
		MaxIdleConnsPerHost: *connections,
		MaxConnsPerHost:     *connections,
	}
	client := &http.Client{Transport: transport}
	workers := make([]worker, *connections)
	phase(client, *url, workers, time.Now().Add(time.Duration(*warmup*float64(time.Second))), false)
	start := time.Now()
	cpuStart := cpuSeconds()
	phase(client, *url, workers, start.Add(time.Duration(*seconds*float64(time.Second))), true)
	wall := time.Since(start).Seconds()
	cpu := cpuSeconds() - cpuStart
	var all []float64
	errors := 0
	for _, w := range workers {
		if w.failure != nil {
			fmt.Fprintln(os.Stderr, "go client:", w.failure)
			os.Exit(1)
		}
		all = append(all, w.latencies...)
		errors += w.errors
	}
	sort.Float64s(all)
	q := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return all[int(p*float64(len(all)-1)+0.5)] * 1e3
	}
	fmt.Printf("{\"requests\": %d, \"seconds\": %g, \"cpu_seconds\": %g, \"p50_ms\": %g, \"p99_ms\": %g, \"errors\": %d}\n",
		len(all), wall, cpu, q(0.50), q(0.99), errors)
	if errors > 0 {
		os.Exit(1)
	}
}
