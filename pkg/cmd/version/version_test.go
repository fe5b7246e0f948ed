package version

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/nbctl/nb/pkg/buildinfo"
	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/iostreams"
)

func TestVersionOutputs(t *testing.T) {
	info := buildinfo.Info{Version: "v1.2.3", Commit: "abc1234", Date: "2026-11-22T10:00:00Z", GoVersion: "go1.26", Platform: "linux/arm64"}
	ios, _, out, _ := iostreams.Test()
	o := &Options{IO: ios, Info: func() buildinfo.Info { return info }}
	if err := o.Run(); err != nil {
		t.Fatal(err)
	}
	if want := "nb v1.2.3 (commit abc1234, built 2026-11-22T10:00:00Z, go1.26 linux/arm64)\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
	out.Reset()
	o.Output = "json"
	if err := o.Run(); err != nil {
		t.Fatal(err)
	}
	var got buildinfo.Info
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || got != info {
		t.Errorf("json: %v %+v", err, got)
	}
	o.Output = "yaml"
	err := o.Run()
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "--output") {
		t.Errorf("-o yaml: %v", err)
	}
}

func TestLinkerValuesWin(t *testing.T) {
	old := [3]string{buildinfo.Version, buildinfo.Commit, buildinfo.Date}
	t.Cleanup(func() { buildinfo.Version, buildinfo.Commit, buildinfo.Date = old[0], old[1], old[2] })
	buildinfo.Version, buildinfo.Commit, buildinfo.Date = "v9.9.9", "deadbee", "2026-01-02T03:04:05Z"
	if got := buildinfo.Get(); got.Version != "v9.9.9" || got.Commit != "deadbee" || got.Date != "2026-01-02T03:04:05Z" || got.GoVersion == "" {
		t.Errorf("%+v", got)
	}
}
