package reconciler

import (
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/ini.v1"
)

// AWSEndpoint is the S3 endpoint the AWS SDKs' standard settings name, so
// that an aws-s3 store can reach a stand-in for AWS (a local S3 server in
// a walk-through or CI), as every AWS tool configured the same way does:
// AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else endpoint_url of the
// profile ($AWS_PROFILE, else default) in $AWS_CONFIG_FILE or
// ~/.aws/config; none when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true.
func AWSEndpoint(getenv func(string) string) string {
	if strings.EqualFold(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		return ""
	}
	for _, k := range []string{"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"} {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
	}
	path := getenv("AWS_CONFIG_FILE")
	if path == "" {
		home := getenv("HOME")
		if home == "" {
			if h, err := os.UserHomeDir(); err == nil {
				home = h
			}
		}
		if home == "" {
			return ""
		}
		path = filepath.Join(home, ".aws", "config")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	f, err := ini.LoadSources(ini.LoadOptions{IgnoreInlineComment: true, AllowNestedValues: true}, raw)
	if err != nil {
		return ""
	}
	profile := getenv("AWS_PROFILE")
	section := "default"
	if profile != "" && profile != "default" {
		section = "profile " + profile
	}
	for _, s := range f.Sections() {
		if s.Name() == section {
			if k, err := s.GetKey("endpoint_url"); err == nil {
				return strings.TrimSpace(k.String())
			}
		}
	}
	return ""
}
