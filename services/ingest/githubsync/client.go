// Package githubsync collects the pull requests and issues of the roster's GitHub logins through
// the REST API, incrementally: a cursor per login in the NATS KV bucket, advanced only after what
// came before it was published, and waits on the rate limits GitHub announces.
package githubsync

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v60/github"
)

// NewClient returns a go-github client for baseURL: github.com when it is empty or
// api.github.com, GitHub Enterprise Server otherwise (https://ghe.example.com/api/v3/; the
// /api/v3/ suffix is added when missing). An empty token makes unauthenticated requests, which
// GitHub limits to 10 searches a minute.
func NewClient(baseURL, token string, httpClient *http.Client) (*github.Client, error) {
	c := github.NewClient(httpClient)
	if token != "" {
		c = c.WithAuthToken(token)
	}
	if baseURL == "" {
		return c, nil
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("githubsync: base url %q must be an http(s) URL such as https://ghe.example.com/api/v3/", baseURL)
	}
	if strings.EqualFold(u.Hostname(), "api.github.com") {
		return c, nil
	}
	ghe, err := c.WithEnterpriseURLs(baseURL, baseURL)
	if err != nil {
		return nil, fmt.Errorf("githubsync: enterprise url %q: %w", baseURL, err)
	}
	return ghe, nil
}
