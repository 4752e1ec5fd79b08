package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/config"
)

// busUser is the NATS user a command connects as: its service's own user, the ingest user for a
// backfill (which publishes raw records and writes cursors as ingest does), and the
// administrator for the other commands (roster load, tokens, forget).
func busUser(name string) string {
	switch name {
	case "ingest", "backfill":
		return bus.UserIngest
	case "enrich":
		return bus.UserEnrich
	case "report":
		return bus.UserReport
	}
	return bus.UserAdmin
}

// busCredentials returns the NATS credentials of the command called name: from
// nats.credentials_file when set, else nats.user (default: the command's user, see busUser)
// with the password of nats.password_env or nats.password_file, with the TLS files of
// nats.tls. With none of them it connects anonymously, which a server requiring users refuses
// with an error saying what to set.
func busCredentials(cfg config.Config, name string) (bus.Credentials, error) {
	user := busUser(name)
	cr := bus.Credentials{
		CAFile:   cfg.Path(cfg.NATS.TLS.CAFile),
		CertFile: cfg.Path(cfg.NATS.TLS.CertFile),
		KeyFile:  cfg.Path(cfg.NATS.TLS.KeyFile),
	}
	if f := cfg.NATS.CredentialsFile; f != "" {
		pw, err := bus.ReadPasswords(cfg.Path(f))
		if err != nil {
			return cr, fmt.Errorf("nats.credentials_file: %w", err)
		}
		if cfg.NATS.User != "" {
			user = cfg.NATS.User
		}
		if pw[user] == "" {
			return cr, fmt.Errorf("nats.credentials_file %s has no password for user %s", f, user)
		}
		cr.User, cr.Password = user, pw[user]
		return cr, checkPassword(cr.Password, "nats.credentials_file "+f+" ("+user+")")
	}
	password, err := config.Secret(cfg.NATS.PasswordEnv, cfg.Path(cfg.NATS.PasswordFile))
	if err != nil {
		return cr, fmt.Errorf("nats password: %w", err)
	}
	if password == "" {
		return cr, nil
	}
	if cfg.NATS.User != "" {
		user = cfg.NATS.User
	}
	cr.User, cr.Password = user, password
	return cr, nil
}

// checkPassword refuses an example value in a credentials file.
func checkPassword(pw, where string) error {
	if config.ExampleSecret(pw) {
		return fmt.Errorf("%s holds an example password, not a secret", where)
	}
	return nil
}

// localCredentials points cfg at the NATS credentials a `giveback up` wrote under dataDir when
// the configuration names no credentials of its own, so the administration commands reach a
// local instance with --nats and --data alone.
func localCredentials(cfg *config.Config, dataDir string) error {
	if dataDir == "" || cfg.NATS.CredentialsFile != "" || cfg.NATS.PasswordFile != "" ||
		(cfg.NATS.PasswordEnv != "" && os.Getenv(cfg.NATS.PasswordEnv) != "") {
		return nil
	}
	p := filepath.Join(dataDir, "nats", bus.CredentialsFileName)
	_, err := os.Stat(p)
	switch {
	case err == nil:
		abs, err := filepath.Abs(p)
		if err != nil {
			return fmt.Errorf("--data: %w", err)
		}
		cfg.NATS.CredentialsFile = abs
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return nil
	default:
		return fmt.Errorf("--data: nats credentials: %w", err)
	}
}
