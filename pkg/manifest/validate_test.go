package manifest

import "testing"

func TestValidHosts(t *testing.T) {
	for _, h := range []string{"s3.amazonaws.com", "minio_1", "localhost", "MinIO.Example.COM", "10.0.0.1", "::1", "a-b.c"} {
		if !validHost(h) {
			t.Errorf("%q refused", h)
		}
	}
	for _, h := range []string{"..", "../../etc", "12345678901234567890123", "-bad.example", "bad-.example", "a..b", "1.2.3", "x y"} {
		if validHost(h) {
			t.Errorf("%q accepted", h)
		}
	}
}
