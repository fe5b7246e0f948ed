package credentials

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nbctl/nb/pkg/exitcode"
)

var awsFields = []Field{
	{Key: "AWS_ACCESS_KEY_ID", Flag: "access-key", Env: []string{"AWS_ACCESS_KEY_ID"}, Label: "Access key", Role: RoleAccessKey},
	{Key: "AWS_SECRET_ACCESS_KEY", Flag: "secret-key", Env: []string{"AWS_SECRET_ACCESS_KEY"}, Label: "Secret key", Hidden: true, Role: RoleSecretKey},
}

func resolveFile(t *testing.T, content string, env map[string]string) (map[string]string, error) {
	t.Helper()
	return Resolve(context.Background(), awsFields, Source{
		File:     "creds",
		ReadFile: func(string) ([]byte, error) { return []byte(content), nil },
		Getenv:   func(k string) string { return env[k] },
	})
}

// A credential in a malformed file must not reach the error, whatever the
// shape: errors go to terminals and CI logs.
func TestErrorsNeverQuoteTheFile(t *testing.T) {
	const secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY"
	const access = "AKIAIOSFODNN7EXAMPLE"
	shapes := map[string]string{
		"spaces instead of =":        "AWS_ACCESS_KEY_ID " + access + "\nAWS_SECRET_ACCESS_KEY " + secret + "\n",
		"unterminated double quote":  "AWS_ACCESS_KEY_ID=" + access + "\nAWS_SECRET_ACCESS_KEY=\"" + secret + "\n",
		"unterminated single quote":  "AWS_SECRET_ACCESS_KEY='" + secret + "\n",
		"a bare value":               secret + "\n",
		"a value as a key":           secret + ": x\n",
		"a value as a key with =":    secret + "=\n",
		"values as keys":             access + "=" + secret + "\n",
		"lower-case keys":            "aws_secret=" + secret + "\nsecret_" + secret + "=1\n",
		"ini without =":              "[default]\naws_access_key_id " + access + "\naws_secret_access_key " + secret + "\n",
		"ini value without key":      "[default]\n" + secret + "\n",
		"ini wrong profile":          "[" + "other" + "]\naws_access_key_id=" + access + "\naws_secret_access_key=" + secret + "\n",
		"ini missing secret":         "[default]\naws_access_key_id=" + access + "\n",
		"ini secret as section name": "[" + secret + "]\naws_access_key_id=" + access + "\n",
	}
	for name, content := range shapes {
		t.Run(name, func(t *testing.T) {
			_, err := resolveFile(t, content, nil)
			if err == nil {
				t.Fatalf("no error for %q", content)
			}
			var ue *exitcode.UsageError
			if !errors.As(err, &ue) || ue.Flag != "--credentials-file" {
				t.Errorf("want a usage error naming --credentials-file, got %v", err)
			}
			msg := err.Error()
			for _, s := range []string{secret, secret[:12], secret[len(secret)-12:], access, access[:10]} {
				if strings.Contains(msg, s) {
					t.Fatalf("the error quotes a credential (%q):\n%s", s, msg)
				}
			}
			t.Log(msg)
		})
	}
}

func TestErrorsNameTheBadLine(t *testing.T) {
	_, err := resolveFile(t, "# comment\n\nAWS_ACCESS_KEY_ID=AKIA\nAWS_SECRET_ACCESS_KEY \"abc\n\n", nil)
	if err == nil || !strings.Contains(err.Error(), "line 4") {
		t.Errorf("want line 4 named: %v", err)
	}
	_, err = resolveFile(t, "AWS_ACCESS_KEY_ID=AKIA\nAWS_SECRET_ACCESS_KEY=\"abc\ndef\n", nil)
	if err == nil || !strings.Contains(err.Error(), "line 2: a quoted value is not closed") {
		t.Errorf("want line 2's quote named: %v", err)
	}
	_, err = resolveFile(t, "[default]\naws_access_key_id=AKIA\nnonsense\n", nil)
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("want line 3 named: %v", err)
	}
	_, err = resolveFile(t, "SOMETHING_ELSE=1\nAWS_ACCES_KEY_ID=x\n", nil)
	if err == nil || !strings.Contains(err.Error(), "found AWS_ACCES_KEY_ID, SOMETHING_ELSE") {
		t.Errorf("want the unused key names listed: %v", err)
	}
}

func TestFilesThatWork(t *testing.T) {
	for name, c := range map[string]struct {
		content string
		env     map[string]string
	}{
		"dotenv":              {"AWS_ACCESS_KEY_ID=AKIA1\nAWS_SECRET_ACCESS_KEY=\"s e#c;r=et\"\n", nil},
		"export and yaml-ish": {"export AWS_ACCESS_KEY_ID=AKIA1\nAWS_SECRET_ACCESS_KEY: s e#c;r=et\n", nil},
		"ini default":         {"[default]\naws_access_key_id = AKIA1\naws_secret_access_key = s e#c;r=et\n", nil},
		"ini profile":         {"[default]\naws_access_key_id=x\naws_secret_access_key=y\n\n[ci]\nAWS_ACCESS_KEY_ID = AKIA1\naws_secret_access_key=s e#c;r=et\n", map[string]string{"AWS_PROFILE": "ci"}},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := resolveFile(t, c.content, c.env)
			if err != nil {
				t.Fatal(err)
			}
			if got["AWS_ACCESS_KEY_ID"] != "AKIA1" || got["AWS_SECRET_ACCESS_KEY"] != "s e#c;r=et" {
				t.Errorf("got %v", got)
			}
		})
	}
}
