package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWarningsOnSecretFilesOthersMayRead(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("s3cret-"+name+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return p
	}
	private := write("private", 0o600)
	ownerGroupRead := write("group", 0o640)
	everyone := write("everyone", 0o644)
	key := write("etcd-key", 0o604)
	yaml := "etcd:\n  tls:\n    cert: " + write("etcd-cert", 0o644) + "\n    key: " + key + "\n"
	c, err := Parse([]byte(yaml), "liaison.yaml", env(map[string]string{
		"SLACK_BOT_TOKEN_FILE":      private,
		"SLACK_SIGNING_SECRET_FILE": ownerGroupRead,
		"MATTERMOST_URL":            "https://chat.example.gov",
		"MATTERMOST_BOT_TOKEN_FILE": everyone,
		// Not a secret: a user name may be readable by anyone.
		"LIAISON_ETCD_USER_FILE":     write("user", 0o644),
		"LIAISON_ETCD_PASSWORD_FILE": write("password", 0o400),
	}))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(c.Warnings(), "\n")
	for _, want := range []string{
		"SLACK_SIGNING_SECRET_FILE: \"" + ownerGroupRead + "\" holds a secret and its group may read it (mode 0640): chmod 600 " + ownerGroupRead,
		"MATTERMOST_BOT_TOKEN_FILE: \"" + everyone + "\" holds a secret and its group and everyone may read it (mode 0644): chmod 600 " + everyone,
		"etcd.tls.key: \"" + key + "\" holds a secret and everyone may read it (mode 0604): chmod 600 " + key,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing warning %q in:\n%s", want, got)
		}
	}
	if n := len(c.Warnings()); n != 3 || strings.Contains(got, private) || strings.Contains(got, "LIAISON_ETCD_USER") {
		t.Errorf("%d warnings, want exactly the three files others may read:\n%s", n, got)
	}
	if strings.Contains(got, "s3cret") {
		t.Errorf("a warning shows a secret:\n%s", got)
	}
	if w := Default().Warnings(); len(w) != 0 {
		t.Errorf("default configuration warns: %v", w)
	}
}
