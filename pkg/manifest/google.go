package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nbctl/nb/pkg/exitcode"
)

// GoogleServiceAccountKey checks that raw is a service-account key file, as
// the operator requires (JSON with "type": "service_account").
func GoogleServiceAccountKey(flag string, raw []byte) (string, error) {
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		// The decoder's message quotes a character of the file, which is
		// a private key: say where, never what.
		where := ""
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := 1 + bytes.Count(raw[:min(int(se.Offset), len(raw))], []byte("\n"))
			where = fmt.Sprintf(" (line %d)", line)
		}
		return "", exitcode.Usagef(flag, "the key file is not a JSON object%s: download the service account's key again (values are not shown)", where)
	}
	if t, _ := doc["type"].(string); t != "service_account" {
		return "", exitcode.Usagef(flag, `the key file's "type" is %q, not "service_account": download a service-account key, or use google-cloud-storage-sts for workload identity`, t)
	}
	return string(raw), nil
}

// googleWIFCredentials builds the external_account credential configuration
// that lets the NooBaa pods exchange their projected service-account token
// for a Google access token through workload identity federation.
func googleWIFCredentials(projectNumber, poolID, providerID, serviceAccount string) (string, error) {
	audience := fmt.Sprintf("//iam.googleapis.com/projects/%s/locations/global/workloadIdentityPools/%s/providers/%s", projectNumber, poolID, providerID)
	doc := map[string]any{
		"type":                              "external_account",
		"audience":                          audience,
		"subject_token_type":                "urn:ietf:params:oauth:token-type:jwt",
		"token_url":                         "https://sts.googleapis.com/v1/token",
		"service_account_impersonation_url": fmt.Sprintf("https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/%s:generateAccessToken", serviceAccount),
		"credential_source": map[string]any{
			"file":   "/var/run/secrets/openshift/serviceaccount/token",
			"format": map[string]any{"type": "text"},
		},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return "", fmt.Errorf("build workload identity credentials: %w", err)
	}
	return string(b), nil
}
