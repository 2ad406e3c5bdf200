// Package version holds the build's version, set by the linker:
//
//	go build -ldflags "-X github.com/maestro-dev/maestro/internal/version.Version=v0.1.0"
package version

import "runtime/debug"

// Version is the release version; "dev" for local builds.
var Version = "dev"

// Commit is the VCS revision, when the build recorded one.
func Commit() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return ""
}
