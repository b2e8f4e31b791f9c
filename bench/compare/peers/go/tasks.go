// bench/compare/peers/go/tasks.go — goroutines measured as compare_corio_tasks measures corio's
// tasks, one measurement per process (GOMAXPROCS from the environment: the run script sets 1
// and pins the process to one CPU):
//
//	tasks --test spawn_await [--n 1000000]  start 1000 trivial goroutines and wait for them
//	      (a sync.WaitGroup per batch), until n have run (after a warm-up of n/10) -> ns per task
//	tasks --test spawn_alive [--n 1000000]  the same with all n started before the wait
//	tasks --test memory [--n 100000]        n goroutines in time.Sleep(time.Hour): growth of
//	      resident memory / n (stack and runtime structures included)          -> bytes per task
//
// Times are the process's CPU time (user + kernel, every thread: the garbage collector's too).
// Go has no awaitable call or per-call timeout to set beside corio's "await" and "wait_for":
// those tests exit with status 3 ("not applicable"). Prints one JSON line: test, value, unit, n.
package main

import (
	"flag"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
)

func cpuSeconds() float64 {
	var u syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return float64(u.Utime.Sec+u.Stime.Sec) + float64(u.Utime.Usec+u.Stime.Usec)*1e-6
}

func spawnThenWait(total, batch int) {
	var wg sync.WaitGroup
	for started := 0; started < total; started += batch {
		wg.Add(batch)
		for i := 0; i < batch; i++ {
			go func() { wg.Done() }()
		}
		wg.Wait()
	}
}

func residentBytes() float64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var total, resident int64
	fmt.Sscan(string(data), &total, &resident)
	return float64(resident * int64(os.Getpagesize()))
}

func memoryPerSleeper(n int) float64 {
	var started sync.WaitGroup
	started.Add(1)
	go func() { started.Done(); time.Sleep(time.Hour) }()
	started.Wait()
	before := residentBytes()
	started.Add(n)
	for i := 0; i < n; i++ {
		go func() { started.Done(); time.Sleep(time.Hour) }()
	}
	started.Wait()
	time.Sleep(10 * time.Millisecond) // the last ones reach their sleep
	after := residentBytes()
	return (after - before) / float64(n)
}

func main() {
	test := flag.String("test", "", "spawn_await, spawn_alive or memory")
	n := flag.Int("n", 0, "tasks (default 1000000; 100000 for memory)")
	flag.Float64("min-seconds", 0.3, "unused (no await tests)")
	flag.Parse()
	value, unit := 0.0, "ns"
	switch *test {
	case "spawn_await":
		if *n <= 0 {
			*n = 1000000
		}
		spawnThenWait(max(*n/10, 1000), 1000)
		start := cpuSeconds()
		spawnThenWait(*n, 1000)
		value = (cpuSeconds() - start) / float64(*n) * 1e9
	case "spawn_alive":
		if *n <= 0 {
			*n = 1000000
		}
		start := cpuSeconds()
		spawnThenWait(*n, *n)
		value = (cpuSeconds() - start) / float64(*n) * 1e9
	case "memory":
		if *n <= 0 {
			*n = 100000
		}
		value, unit = memoryPerSleeper(*n), "bytes"
	case "await", "wait_for":
		fmt.Fprintln(os.Stderr, "go tasks: not applicable (Go has no awaitable call)")
		os.Exit(3)
	default:
		fmt.Fprintln(os.Stderr, "usage: tasks --test spawn_await|spawn_alive|memory [--n N]")
		os.Exit(2)
	}
	fmt.Printf("{\"test\": %q, \"value\": %g, \"unit\": %q, \"n\": %d}\n", *test, value, unit, *n)
}

func max(a, b int) int {
	if a > b {
		return a
	}
	return b
}
