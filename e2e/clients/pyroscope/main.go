// Command pyroscope is a Go service instrumented with the real pyroscope-go client, sending
// CPU profiles to -server with the given tags, for -duration.
package main

import (
	"flag"
	"log"
	"strings"
	"time"

	"hotpath.local/e2e/clients/internal/cpuwork"

	"github.com/grafana/pyroscope-go"
)

func main() {
	server := flag.String("server", "http://127.0.0.1:8126", "server address")
	app := flag.String("app", "pyro-e2e", "application name")
	tags := flag.String("tags", "", "k=v,k=v")
	key := flag.String("key", "", "basic-auth password (API key)")
	duration := flag.Duration("duration", 5*time.Second, "how long to run")
	flag.Parse()
	t := map[string]string{}
	for _, kv := range strings.Split(*tags, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			t[k] = v
		}
	}
	p, err := pyroscope.Start(pyroscope.Config{
		ApplicationName:   *app,
		ServerAddress:     *server,
		BasicAuthUser:     "hotpath",
		BasicAuthPassword: *key,
		Tags:              t,
		UploadRate:        2 * time.Second,
		ProfileTypes:      []pyroscope.ProfileType{pyroscope.ProfileCPU},
	})
	if err != nil {
		log.Fatal(err)
	}
	end := time.Now().Add(*duration)
	var x byte
	for time.Now().Before(end) {
		x ^= cpuwork.Do(20000)
	}
	if err := p.Stop(); err != nil {
		log.Fatal(err)
	}
	log.Printf("done %d", x)
}
