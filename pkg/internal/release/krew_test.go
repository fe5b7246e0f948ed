package release

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"text/template"

	"sigs.k8s.io/yaml"
)

const stubSha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// botFuncs is krew-release-bot's template function map (its
// pkg/source/template.go): addURIAndSha takes the URL (itself a template,
// rendered with TagName only) and the tag, and returns a uri line and a
// sha256 line padded by 4 spaces; indent; nothing else (no sprig).
func botFuncs(uris *[]string) template.FuncMap {
	return template.FuncMap{
		"indent": func(spaces int, v string) string {
			pad := strings.Repeat(" ", spaces)
			return strings.TrimSpace(pad + strings.ReplaceAll(v, "\n", "\n"+pad))
		},
		"addURIAndSha": func(url, tag string) (string, error) {
			inner, err := template.New("url").Parse(url)
			if err != nil {
				return "", err
			}
			var b bytes.Buffer
			if err := inner.Execute(&b, struct{ TagName string }{tag}); err != nil {
				return "", err
			}
			*uris = append(*uris, b.String())
			return fmt.Sprintf("uri: %s\n    sha256: %s", b.String(), stubSha), nil
		},
	}
}

// The krew manifest template renders under the release bot's functions
// into a plugin manifest with one entry per platform goreleaser builds,
// each pointing at the archive goreleaser names (nb_<version>_<os>_<arch>).
func TestKrewManifestRendersForTheBot(t *testing.T) {
	path := filepath.Join("..", "..", "..", "hack", "krew", "nb.yaml")
	for _, tag := range []string{"v0.3.1", "v12.0.0"} {
		var uris []string
		tpl, err := template.New(filepath.Base(path)).Funcs(botFuncs(&uris)).ParseFiles(path)
		if err != nil {
			t.Fatalf("the template does not parse with the bot's functions: %v", err)
		}
		var out bytes.Buffer
		if err := tpl.Execute(&out, struct{ TagName, PluginName string }{tag, "nb"}); err != nil {
			t.Fatalf("%s: the template does not render: %v", tag, err)
		}
		var m struct {
			Metadata struct{ Name string }
			Spec     struct {
				Version   string
				Platforms []struct {
					URI, Sha256, Bin string
					Selector         struct {
						MatchLabels map[string]string `json:"matchLabels"`
					}
				}
			}
		}
		if err := yaml.Unmarshal(out.Bytes(), &m); err != nil {
			t.Fatalf("%s: rendered manifest is not valid YAML: %v\n%s", tag, err, out.String())
		}
		if m.Metadata.Name != "nb" || m.Spec.Version != tag || len(m.Spec.Platforms) != 6 {
			t.Fatalf("%s: manifest %+v", tag, m)
		}
		version := strings.TrimPrefix(tag, "v")
		for _, p := range m.Spec.Platforms {
			os, arch := p.Selector.MatchLabels["os"], p.Selector.MatchLabels["arch"]
			ext, bin := "tar.gz", "nb"
			if os == "windows" {
				ext, bin = "zip", "nb.exe"
			}
			want := fmt.Sprintf("https://github.com/nbctl/nb/releases/download/%s/nb_%s_%s_%s.%s", tag, version, os, arch, ext)
			if p.URI != want || p.Sha256 != stubSha || p.Bin != bin {
				t.Errorf("%s %s/%s: uri %q sha %q bin %q, want %q", tag, os, arch, p.URI, p.Sha256, p.Bin, want)
			}
		}
	}
}
