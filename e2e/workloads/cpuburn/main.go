// Command cpuburn does CPU work for a fixed time and writes a CPU profile.
//
// It is a test-fixture generator for Hotpath: the profiles it writes look like
// a small Go service (encoding/json, sorting, hashing, trees, deep recursion,
// optional pprof labels) and contain the call patterns that Go's PGO cares
// about. See ../README.md.
//
// Usage:
//
//	cpuburn -o cpu.pprof [-duration 2s] [-cpu-time 0] [-rate 100] [-workers N]
//	        [-labels] [-variety 1] [-seed 1] [-mode mixed|json|sort|hash|tree|render]
//
// With -cpu-time the run ends once the process has used that much CPU time, so
// the profile holds about the same number of samples however busy the machine
// is (-duration then only caps the wall time).
//
// A -rate other than 100 calls runtime.SetCPUProfileRate before
// pprof.StartCPUProfile; the runtime then prints the harmless warning
// "runtime: cannot set cpu profile rate until previous profile has finished."
// on stderr, and the profile is recorded at the requested rate.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	"hotpath.local/e2e/workloads/internal/burn"
)

func main() {
	out := flag.String("o", "", "write the CPU profile to `file` (required)")
	duration := flag.Duration("duration", 2*time.Second, "how long to run and profile (with -cpu-time: at most this long)")
	cpuTime := flag.Duration("cpu-time", 0, "stop once the process has used this much CPU time, user and system (0: run for -duration)")
	rate := flag.Int("rate", 100, "CPU profile sampling rate in `Hz`")
	workers := flag.Int("workers", runtime.NumCPU(), "number of worker goroutines")
	labels := flag.Bool("labels", false, "attach pprof labels endpoint and request_batch to each request")
	variety := flag.Int("variety", 1, fmt.Sprintf("number of generated v-functions in use (1..%d); >1 routes every request through a random chain of them, giving many distinct stacks", burn.MaxVariety))
	seed := flag.Uint64("seed", 1, "seed for the workload mix and inputs")
	mode := flag.String("mode", "mixed", "workload: "+strings.Join(burn.Modes, ", "))
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: cpuburn -o FILE [flags]\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()

	if *out == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if *rate <= 0 {
		fatalf("-rate must be > 0, got %d", *rate)
	}
	if *duration <= 0 {
		fatalf("-duration must be > 0, got %s", *duration)
	}
	if *cpuTime < 0 {
		fatalf("-cpu-time must be >= 0, got %s", *cpuTime)
	}
	cfg := burn.Config{
		Mode:    *mode,
		Workers: *workers,
		Labels:  *labels,
		Variety: *variety,
		Seed:    *seed,
	}
	// Validate before creating the output file.
	if _, err := burn.Weights(cfg); err != nil {
		fatalf("%v", err)
	}
	if cfg.Workers < 1 {
		fatalf("-workers must be >= 1, got %d", cfg.Workers)
	}
	if cfg.Variety < 1 || cfg.Variety > burn.MaxVariety {
		fatalf("-variety must be in 1..%d, got %d", burn.MaxVariety, cfg.Variety)
	}

	f, err := os.Create(*out)
	if err != nil {
		fatalf("%v", err)
	}
	if *rate != 100 {
		// pprof.StartCPUProfile sets the rate to 100 Hz unless a rate
		// was set already; it then prints a harmless warning.
		runtime.SetCPUProfileRate(*rate)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fatalf("start CPU profile: %v", err)
	}

	stop := make(chan struct{})
	var once sync.Once
	end := func() { once.Do(func() { close(stop) }) }
	time.AfterFunc(*duration, end)
	if *cpuTime > 0 {
		go stopAfterCPUTime(*cpuTime, stop, end)
	}
	start := time.Now()
	stats, err := burn.Run(context.Background(), cfg, stop)
	pprof.StopCPUProfile()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fatalf("%v", err)
	}
	fmt.Fprintf(os.Stderr, "cpuburn: mode=%s seed=%d workers=%d variety=%d labels=%v rate=%d ran %s: %s\n",
		cfg.Mode, cfg.Seed, cfg.Workers, cfg.Variety, cfg.Labels, *rate,
		time.Since(start).Round(time.Millisecond), stats)
}

// stopAfterCPUTime calls end once the process has used limit of CPU time,
// checking every 50 ms until stop is closed.
func stopAfterCPUTime(limit time.Duration, stop <-chan struct{}, end func()) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			var ru syscall.Rusage
			if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
				fatalf("getrusage: %v", err)
			}
			used := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			if used >= limit {
				end()
				return
			}
		}
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "cpuburn: "+format+"\n", args...)
	os.Exit(1)
}
