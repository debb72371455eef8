#!/usr/bin/env bash
# Regenerates the checked-in profile fixtures in e2e/testdata.
# Usage: bash e2e/workloads/gen-fixtures.sh   (from anywhere)
# Takes about 20 s. Profiles depend on timing, so every run gives different bytes.
set -euo pipefail
cd "$(dirname "$0")"
out=../testdata
mkdir -p bin "$out"
go generate ./...
# -trimpath keeps machine-specific paths out of the profiles.
go build -trimpath -o bin/ ./cpuburn ./heapprof
bin/cpuburn -o "$out/cpu-small-1.pprof" -seed 1 -duration 3s
bin/cpuburn -o "$out/cpu-small-2.pprof" -seed 2 -duration 3s -labels
bin/cpuburn -o "$out/cpu-small-3.pprof" -seed 3 -duration 3s
bin/cpuburn -o "$out/cpu-json.pprof" -mode json -duration 3s
bin/cpuburn -o "$out/cpu-sort.pprof" -mode sort -duration 3s
bin/heapprof -o "$out/heap.pprof"
ls -l "$out"
