module hotpath.local/e2e/workloads

go 1.26
