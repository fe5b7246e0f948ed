package manifest

import (
	"strings"
	"testing"
)

// A damaged key file must not leak its private key into the error.
func TestGoogleKeyErrorsDoNotQuoteTheFile(t *testing.T) {
	const secret = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"
	for _, raw := range []string{
		`{"type": "service_account", "private_key": "` + secret + "\n",
		secret,
		`{"type": "service_account",` + "\n" + secret + `}`,
		`["` + secret + `"]`,
		`{"type": "service_account", "private_key": "` + secret + `"` + secret + `}`,
	} {
		_, err := GoogleServiceAccountKey("--private-key-json-file", []byte(raw))
		if err == nil {
			t.Fatalf("no error for %q", raw)
		}
		for _, s := range []string{secret[:8], secret[8:16], secret[len(secret)-8:]} {
			if strings.Contains(err.Error(), s) {
				t.Fatalf("error quotes the key file: %v", err)
			}
		}
		if !strings.Contains(err.Error(), "--private-key-json-file") {
			t.Errorf("error does not name the flag: %v", err)
		}
	}
	if _, err := GoogleServiceAccountKey("f", []byte("{\n\"type\": \"service_account\",\n x}")); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("want the line named: %v", err)
	}
}
