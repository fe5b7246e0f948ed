// Package buildinfo says which nb this is. Version, Commit and Date are
// set at build time by the linker (make build, goreleaser):
//
//	-X github.com/nbctl/nb/pkg/buildinfo.Version=v1.2.3
//
// A plain `go build` leaves Version "dev" and takes the commit and its
// time from the VCS stamp Go embeds in the binary.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Set by the linker; these are the only package-level variables nb has,
// because -X can set nothing else.
var (
	Version = "dev"
	Commit  = ""
	Date    = ""
)

// Info describes the running binary.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get returns the build information, completing what the linker did not
// set from Go's embedded VCS stamp.
func Get() Info {
	info := Info{Version: Version, Commit: Commit, Date: Date, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		modified := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if info.Commit == "" {
					info.Commit = s.Value
				}
			case "vcs.time":
				if info.Date == "" {
					info.Date = s.Value
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if modified && Commit == "" && info.Commit != "" {
			info.Commit += "-dirty"
		}
	}
	if info.Commit == "" {
		info.Commit = "unknown"
	}
	if info.Date == "" {
		info.Date = "unknown"
	}
	return info
}
