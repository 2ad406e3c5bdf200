package netbench

// Reporter is what a benchmark reports metrics through (*testing.B).
type Reporter interface {
	ReportMetric(n float64, unit string)
}

// ReportModes reports the host path and the ratios of the two pod network
// modes to their own host-to-host bases, under the metric names every pod
// network benchmark uses (host-MB/s, hostgw-throughput-ratio, ...).
func ReportModes(b Reporter, hostGWBase, hostGW, wireGuardBase, wireGuard Result) {
	gwT, gwL := hostGW.Ratio(hostGWBase)
	wgT, wgL := wireGuard.Ratio(wireGuardBase)
	b.ReportMetric(hostGWBase.BytesPerSecond/1e6, "host-MB/s")
	b.ReportMetric(float64(hostGWBase.P50.Microseconds()), "host-p50-µs")
	b.ReportMetric(gwT, "hostgw-throughput-ratio")
	b.ReportMetric(gwL, "hostgw-p50-ratio")
	b.ReportMetric(wgT, "wireguard-throughput-ratio")
	b.ReportMetric(wgL, "wireguard-p50-ratio")
}
