// Command ddpgoclient does what a datadog-pgo CI step does, so Hotpath can be tested as its
// server: it reads DD_SITE, DD_API_KEY and DD_APP_KEY, posts the profile search datadog-pgo
// posts to https://app.$DD_SITE/api/unstable/profiles/gopgo with Go's default HTTP client
// (which trusts SSL_CERT_FILE), reads the zip answer and merges its profiles with google/pprof,
// labels dropped, and writes the merge (without datadog-pgo's no-inline renames).
//
// Since tests cannot add a hosts entry for app.$DD_SITE, -connect sends every connection to
// another address while TLS still checks the certificate against app.$DD_SITE.
//
// With -probe it only fetches /healthz and prints the SHA-256 of the server's certificate.
//
// Usage: ddpgoclient [-connect ADDR] [-profiles N] [-from D] QUERY... DEST
//
//	ddpgoclient -probe [-connect ADDR]
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// apiTime is the time layout of Datadog's API, UTC, as datadog-pgo writes it.
const apiTime = "2006-01-02T15:04:05.999999999Z"

type searchQuery struct {
	Filter struct {
		From  string `json:"from"`
		To    string `json:"to"`
		Query string `json:"query"`
	} `json:"filter"`
	Sort struct {
		Order string `json:"order"`
		Field string `json:"field"`
	} `json:"sort"`
	Limit int `json:"limit"`
}

type summary struct {
	Files   []string `json:"files"`
	Samples int      `json:"samples"`
	Status  int      `json:"status,omitempty"`
	Cert    string   `json:"cert,omitempty"`
}

func main() {
	connect := flag.String("connect", "", "dial this host:port instead of app.$DD_SITE's address")
	profiles := flag.Int("profiles", 5, "profiles per query")
	from := flag.Duration("from", 72*time.Hour, "how far back to search")
	timeout := flag.Duration("timeout", 60*time.Second, "give up after this long")
	probe := flag.Bool("probe", false, "fetch /healthz and print the server certificate's SHA-256")
	flag.Parse()

	if *connect != "" {
		dialer := &net.Dialer{Timeout: 10 * time.Second}
		http.DefaultTransport.(*http.Transport).DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, *connect)
		}
	}
	site := os.Getenv("DD_SITE")
	if site == "" {
		site = "datadoghq.com"
	}
	base := "https://app." + site
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	var out summary
	var err error
	if *probe {
		out, err = probeServer(ctx, base)
	} else if flag.NArg() < 2 {
		err = errors.New("need QUERY... DEST")
	} else {
		out, err = searchDownloadMerge(ctx, base, *profiles, *from, flag.Args()[:flag.NArg()-1], flag.Arg(flag.NArg()-1))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ddpgoclient:", err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(1)
	}
}

func probeServer(ctx context.Context, base string) (summary, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/healthz", nil)
	if err != nil {
		return summary{}, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return summary{}, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	sum := sha256.Sum256(res.TLS.PeerCertificates[0].Raw)
	return summary{Status: res.StatusCode, Cert: hex.EncodeToString(sum[:])}, nil
}

func searchDownloadMerge(ctx context.Context, base string, limit int, window time.Duration, queries []string, dest string) (summary, error) {
	var payload struct {
		Queries []searchQuery `json:"queries"`
	}
	now := time.Now()
	for _, q := range queries {
		// As datadog-pgo: PGO is for Go profiles only.
		if !strings.Contains(q, "language:go") && !strings.Contains(q, "runtime:go") {
			q = strings.TrimSpace(q) + " runtime:go"
		}
		var sq searchQuery
		sq.Filter.From = now.Add(-window).UTC().Round(time.Second).Format(apiTime)
		sq.Filter.To = now.UTC().Round(time.Second).Format(apiTime)
		sq.Filter.Query = q
		sq.Sort.Order = "desc"
		sq.Sort.Field = "@metrics.core_cpu_cores"
		sq.Limit = limit
		payload.Queries = append(payload.Queries, sq)
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return summary{}, err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/api/unstable/profiles/gopgo", bytes.NewReader(body))
	if err != nil {
		return summary{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ddpgoclient/0")
	req.Header.Set("DD-APPLICATION-KEY", os.Getenv("DD_APP_KEY"))
	req.Header.Set("DD-API-KEY", os.Getenv("DD_API_KEY"))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return summary{}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return summary{}, err
	}
	if res.StatusCode != http.StatusOK {
		return summary{}, fmt.Errorf("%s: %s", res.Status, data)
	}

	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return summary{}, fmt.Errorf("reading the zip: %w", err)
	}
	var merged *profile.Profile
	var names []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return summary{}, err
		}
		p, err := profile.Parse(rc)
		// Reading to the end checks the file's CRC-32.
		if err == nil {
			_, err = io.Copy(io.Discard, rc)
		}
		if cerr := rc.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return summary{}, fmt.Errorf("%s: %w", f.Name, err)
		}
		for _, s := range p.Sample {
			s.Label = nil
		}
		names = append(names, f.Name)
		if merged == nil {
			merged = p
			continue
		}
		if merged, err = profile.Merge([]*profile.Profile{merged, p}); err != nil {
			return summary{}, fmt.Errorf("merging %s: %w", f.Name, err)
		}
	}
	if merged == nil {
		return summary{}, errors.New("the zip holds no profile")
	}
	file, err := os.Create(dest)
	if err != nil {
		return summary{}, err
	}
	if err := merged.Write(file); err != nil {
		file.Close()
		return summary{}, err
	}
	if err := file.Close(); err != nil {
		return summary{}, err
	}
	sort.Strings(names)
	return summary{Files: names, Samples: len(merged.Sample)}, nil
}
