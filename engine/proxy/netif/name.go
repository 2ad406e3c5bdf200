package netif

// DefaultName is the interface maestro's proxies share on a host: every
// Linux host has it, where the dummy driver is a kernel module some hosts
// lack. Several local clusters may use it at once as long as their service
// ranges differ.
const DefaultName = "lo"
