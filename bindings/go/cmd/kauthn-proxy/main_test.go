package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"reflect"
	"testing"

	"kauthn.dev/kauthn"
)

// upstream echoes the identity headers it received as JSON.
func upstream() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string][]string{
			"user":   r.Header.Values("X-Remote-User"),
			"uid":    r.Header.Values("X-Remote-Uid"),
			"groups": r.Header.Values("X-Remote-Group"),
			"auth":   r.Header.Values("Authorization"),
			"extra":  r.Header.Values("X-Remote-Extra-Scopes"),
		})
	}))
}

func proxy(t *testing.T) (*httptest.Server, func()) {
	auth, err := kauthn.NewAuthenticator(kauthn.Config{TokenFileCSV: []byte("s3cret,alice,uid-1,\"dev,ops\"\n")})
	if err != nil {
		t.Fatal(err)
	}
	up := upstream()
	target, _ := url.Parse(up.URL)
	p := httptest.NewServer(Handler(auth, httputil.NewSingleHostReverseProxy(target)))
	return p, func() { p.Close(); up.Close(); auth.Close() }
}

func get(t *testing.T, url string, headers map[string][]string) (int, map[string][]string) {
	req, _ := http.NewRequest("GET", url, nil)
	for k, vs := range headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var got map[string][]string
	_ = json.Unmarshal(body, &got)
	return resp.StatusCode, got
}

func TestAuthenticatedRequestIsForwardedWithIdentityHeaders(t *testing.T) {
	p, done := proxy(t)
	defer done()
	code, got := get(t, p.URL+"/api", map[string][]string{"Authorization": {"Bearer s3cret"}})
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	if !reflect.DeepEqual(got["user"], []string{"alice"}) || !reflect.DeepEqual(got["uid"], []string{"uid-1"}) ||
		!reflect.DeepEqual(got["groups"], []string{"dev", "ops", "system:authenticated"}) || len(got["auth"]) != 0 {
		t.Fatalf("upstream saw %v", got)
	}
}

func TestSpoofedIdentityHeadersAreStripped(t *testing.T) {
	p, done := proxy(t)
	defer done()
	code, got := get(t, p.URL+"/api", map[string][]string{
		"Authorization":         {"Bearer s3cret"},
		"X-Remote-User":         {"system:admin"},
		"X-Remote-Group":        {"system:masters"},
		"X-Remote-Extra-Scopes": {"everything"},
	})
	if code != 200 || !reflect.DeepEqual(got["user"], []string{"alice"}) ||
		reflect.DeepEqual(got["groups"], []string{"system:masters"}) || len(got["extra"]) != 0 {
		t.Fatalf("status %d, upstream saw %v", code, got)
	}
}

func TestBadOrMissingCredentialGets401(t *testing.T) {
	p, done := proxy(t)
	defer done()
	for _, h := range []map[string][]string{
		{"Authorization": {"Bearer wrong"}},
		{"X-Remote-User": {"system:admin"}},
		{},
	} {
		if code, _ := get(t, p.URL+"/", h); code != http.StatusUnauthorized {
			t.Fatalf("%v: status %d", h, code)
		}
	}
}
