package githubsync

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"giveback.dev/platform/testkit"
)

// exchange is one recorded request and response of @octokit/fixtures (nock format).
type exchange struct {
	Scope    string          `json:"scope"`
	Method   string          `json:"method"`
	Path     string          `json:"path"`
	Status   int             `json:"status"`
	Response json.RawMessage `json:"response"`
	Headers  map[string]any  `json:"headers"`
}

// loadScenario reads scenarios/api.github.com/<name>/normalized-fixture.json.
func loadScenario(t *testing.T, name string) []exchange {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testkit.OctokitFixtures(t), "api.github.com", name, "normalized-fixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	var xs []exchange
	if err := json.Unmarshal(data, &xs); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return xs
}

// replay serves recorded responses. A request matches a route by method, path and the query
// parameters q and page (page 1 when absent); a route with several responses gives them in
// turn and then repeats its last. The request path is matched without the query. Link headers
// are rewritten to the test server, and GitHub Enterprise's /api/v3 prefix is dropped, so one
// replay serves both kinds of client.
//
// Like GitHub, it sends an ETag with every 200 (a hash of the body) and answers a request whose
// If-None-Match carries it 304 Not Modified, without a body; only the other answers are counted
// (counted), as GitHub's rate limit counts them.
type replay struct {
	t   *testing.T
	srv *httptest.Server

	// headers, when set, may change the headers of an answer, e.g. the rate limit of the
	// request's token.
	headers func(req *http.Request, h http.Header)

	mu          sync.Mutex
	routes      map[string][]exchange
	requests    []*url.URL
	counted     int // answers other than 304
	notModified int
	tokens      []string // the Authorization of each request, in order
}

func newReplay(t *testing.T) *replay {
	r := &replay{t: t, routes: map[string][]exchange{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// resetSoon, as a recorded header value, is replaced by the Unix time one second after the
// response is served: a rate limit reset that is always just ahead.
const resetSoon = "<reset in 1s>"

func routeKey(method, path string, query url.Values) string {
	page := query.Get("page")
	if page == "" {
		page = "1"
	}
	return fmt.Sprintf("%s %s q=%s page=%s", strings.ToUpper(method), path, query.Get("q"), page)
}

// add routes a request (path with its query) to recorded responses.
func (r *replay) add(method, pathQuery string, xs ...exchange) {
	u, err := url.Parse(pathQuery)
	if err != nil {
		r.t.Fatal(err)
	}
	key := routeKey(method, u.Path, u.Query())
	r.mu.Lock()
	defer r.mu.Unlock()
	r.routes[key] = append(r.routes[key], xs...)
}

func (r *replay) serve(w http.ResponseWriter, req *http.Request) {
	path := strings.TrimPrefix(req.URL.Path, "/api/v3")
	r.mu.Lock()
	r.requests = append(r.requests, req.URL)
	r.tokens = append(r.tokens, req.Header.Get("Authorization"))
	key := routeKey(req.Method, path, req.URL.Query())
	xs := r.routes[key]
	if len(xs) > 1 {
		r.routes[key] = xs[1:]
	}
	var x exchange
	if len(xs) > 0 {
		x = xs[0]
	}
	status := x.Status
	if status == 0 {
		status = http.StatusOK
	}
	var tag string
	if status == http.StatusOK {
		sum := sha1.Sum(x.Response)
		tag = `W/"` + hex.EncodeToString(sum[:]) + `"`
	}
	notModified := tag != "" && req.Header.Get("If-None-Match") == tag
	if len(xs) > 0 && notModified {
		r.notModified++
	} else {
		r.counted++
	}
	r.mu.Unlock()
	if len(xs) == 0 {
		r.t.Errorf("replay: no recorded response for %s", key)
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		return
	}
	for k, v := range x.Headers {
		switch strings.ToLower(k) {
		case "content-length", "connection":
			continue
		}
		s := fmt.Sprint(v)
		if s == resetSoon {
			s = strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10)
		}
		if strings.EqualFold(k, "link") {
			s = strings.ReplaceAll(s, "https://api.github.com", r.srv.URL)
		}
		w.Header().Set(k, s)
	}
	if tag != "" {
		w.Header().Set("ETag", tag)
	}
	if r.headers != nil {
		r.headers(req, w.Header())
	}
	if notModified {
		w.Header().Del("Content-Type")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.WriteHeader(status)
	if _, err := w.Write(x.Response); err != nil {
		r.t.Errorf("replay: %v", err)
	}
}

// queries returns the q parameters of the searches received, in order.
func (r *replay) queries() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var qs []string
	for _, u := range r.requests {
		if strings.HasSuffix(u.Path, "/search/issues") || strings.HasSuffix(u.Path, "/search/commits") {
			qs = append(qs, u.Query().Get("q")+" page="+u.Query().Get("page"))
		}
	}
	return qs
}

// counts returns the answers other than 304 and the 304s sent since the last reset.
func (r *replay) counts() (counted, notModified int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counted, r.notModified
}

func (r *replay) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests, r.tokens, r.counted, r.notModified = nil, nil, 0, 0
}
