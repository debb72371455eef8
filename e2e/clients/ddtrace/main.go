// Command ddtrace is a Go service instrumented with the real dd-trace-go profiler, configured
// only through the environment (DD_TRACE_AGENT_URL, DD_SERVICE, DD_ENV, DD_VERSION, ...), as
// a user's service would be. It burns CPU for -duration, uploading every -period, then stops
// the profiler, which flushes the last profile.
package main

import (
	"flag"
	"log"
	"time"

	"hotpath.local/e2e/clients/internal/cpuwork"

	"github.com/DataDog/dd-trace-go/v2/profiler"
)

func main() {
	duration := flag.Duration("duration", 5*time.Second, "how long to run")
	period := flag.Duration("period", 2*time.Second, "profile upload period")
	flag.Parse()
	if err := profiler.Start(profiler.WithPeriod(*period), profiler.WithProfileTypes(profiler.CPUProfile, profiler.HeapProfile)); err != nil {
		log.Fatal(err)
	}
	end := time.Now().Add(*duration)
	var x byte
	for time.Now().Before(end) {
		x ^= cpuwork.Do(20000)
	}
	profiler.Stop()
	log.Printf("done %d", x)
}
