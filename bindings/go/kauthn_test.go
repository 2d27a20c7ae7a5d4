package kauthn

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"sync"
	"testing"
)

const csv = "s3cret,alice,uid-1,\"dev,ops\"\nother,bob,uid-2\n"

func newAuth(t testing.TB, cfg Config) *Authenticator {
	t.Helper()
	if cfg.TokenFileCSV == nil {
		cfg.TokenFileCSV = []byte(csv)
	}
	a, err := NewAuthenticator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func TestTokenAuthenticatesWithGroupsInOrder(t *testing.T) {
	a := newAuth(t, Config{})
	u, err := a.AuthenticateToken("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	want := &User{Name: "alice", UID: "uid-1", Groups: []string{"dev", "ops", "system:authenticated"}}
	if !reflect.DeepEqual(u, want) {
		t.Fatalf("got %+v, want %+v", u, want)
	}
}

func TestUnknownTokenIsUnauthenticated(t *testing.T) {
	a := newAuth(t, Config{})
	if _, err := a.AuthenticateToken("nope"); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("got %v", err)
	}
}

func TestBadBearerHeaderIsRejectedWithUpstreamMessage(t *testing.T) {
	a := newAuth(t, Config{Anonymous: true})
	r := httptest.NewRequest("GET", "/api", nil)
	r.Header.Set("Authorization", "Bearer wrong")
	_, err := a.AuthenticateRequest(r)
	var rej *RejectedError
	if !errors.As(err, &rej) || rej.Reason != "invalid bearer token" {
		t.Fatalf("got %v", err)
	}
}

func TestRequestWithoutCredentialIsAnonymousWhenEnabled(t *testing.T) {
	a := newAuth(t, Config{Anonymous: true, APIAudiences: []string{"api"}})
	u, err := a.AuthenticateRequest(httptest.NewRequest("GET", "/healthz", nil))
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "system:anonymous" || !reflect.DeepEqual(u.Groups, []string{"system:unauthenticated"}) || !reflect.DeepEqual(u.Audiences, []string{"api"}) {
		t.Fatalf("got %+v", u)
	}
}

func TestInvalidConfigurationExplainsWhy(t *testing.T) {
	_, err := NewAuthenticator(Config{TokenFileCSV: []byte("token4\n")})
	if err == nil || !contains(err.Error(), "must have at least 3 columns") {
		t.Fatalf("got %v", err)
	}
}

func TestClientCertificateAuthenticates(t *testing.T) {
	ca, err := os.ReadFile("../c/testdata/ca.pem")
	if err != nil {
		t.Skip("test certificates absent:", err)
	}
	leafPEM, _ := os.ReadFile("../c/testdata/client.pem")
	block, _ := pem.Decode(leafPEM)
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	a := newAuth(t, Config{ClientCAPEM: ca})
	r := httptest.NewRequest("GET", "/", nil)
	r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf}}
	u, err := a.AuthenticateRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "jane" || !reflect.DeepEqual(u.Groups, []string{"system:masters", "dev", "system:authenticated"}) {
		t.Fatalf("got %+v", u)
	}
	if id := u.Extra["authentication.kubernetes.io/credential-id"]; len(id) != 1 || len(id[0]) != 75 {
		t.Fatalf("credential id: %v", u.Extra)
	}
}

func TestBootstrapSecretsAddedAtRuntime(t *testing.T) {
	a := newAuth(t, Config{BootstrapTokens: true, Cache: &CacheTTLs{}})
	if _, err := a.AuthenticateToken("abcdef.0123456789abcdef"); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("before: %v", err)
	}
	err := a.PutBootstrapSecret(BootstrapSecret{
		TokenID: []byte("abcdef"), TokenSecret: []byte("0123456789abcdef"),
		UsageBootstrapAuthentication: []byte("true"),
	})
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.AuthenticateToken("abcdef.0123456789abcdef")
	if err != nil || u.Name != "system:bootstrap:abcdef" {
		t.Fatalf("got %+v %v", u, err)
	}
	if err := a.RemoveBootstrapSecret("abcdef"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AuthenticateToken("abcdef.0123456789abcdef"); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("after removal: %v", err)
	}
}

func TestCloseIsIdempotentAndLaterCallsFail(t *testing.T) {
	a, err := NewAuthenticator(Config{TokenFileCSV: []byte(csv)})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	a.Close()
	if _, err := a.AuthenticateToken("s3cret"); err == nil {
		t.Fatal("call after Close succeeded")
	}
}

func TestConcurrentCallsFromManyGoroutines(t *testing.T) {
	a := newAuth(t, Config{})
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				tok, want := "s3cret", "alice"
				if (i+g)%2 == 0 {
					tok, want = "other", "bob"
				}
				u, err := a.AuthenticateToken(tok)
				if err != nil || u.Name != want {
					t.Errorf("got %+v %v", u, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func BenchmarkAuthenticateTokenCached(b *testing.B) {
	a := newAuth(b, Config{})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := a.AuthenticateToken("s3cret"); err != nil {
			b.Fatal(err)
		}
	}
}

var _ = http.StatusOK

func readData(t testing.TB, name string) []byte {
	b, err := os.ReadFile("../../crates/kauthn-ffi/tests/data/" + name)
	if err != nil {
		t.Skip("test data absent:", err)
	}
	for len(b) > 0 && b[len(b)-1] == '\n' {
		b = b[:len(b)-1]
	}
	return b
}

func jwtAuth(t testing.TB, jwks []byte, cache *CacheTTLs) *Authenticator {
	return newAuth(t, Config{
		ServiceAccountKeyPEMs: [][]byte{readData(t, "sa-public.pem")},
		ServiceAccountIssuers: []string{"https://kubernetes.default.svc.cluster.local"},
		OIDC: &OIDCConfig{
			IssuerURL: "https://issuer.example", ClientID: "kauthn-client",
			UsernameClaim: "email", GroupsClaim: "groups", GroupsPrefix: "oidc:", JWKS: jwks,
		},
		Cache: cache,
	})
}

func TestServiceAccountTokenAuthenticates(t *testing.T) {
	a := jwtAuth(t, readData(t, "oidc-jwks.json"), nil)
	u, err := a.AuthenticateToken(string(readData(t, "sa-bound.jwt")))
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "system:serviceaccount:default:app" || u.Extra["authentication.kubernetes.io/credential-id"][0] != "JTI=8e9a4c4b-7b1b-4a7e-9c53-0d4b1d2c3e4f" {
		t.Fatalf("got %+v", u)
	}
}

func TestOIDCKeysAreReplacedAtRuntime(t *testing.T) {
	a := jwtAuth(t, nil, &CacheTTLs{})
	token := string(readData(t, "oidc.jwt"))
	var rej *RejectedError
	if _, err := a.AuthenticateToken(token); !errors.As(err, &rej) {
		t.Fatalf("before keys: %v", err)
	}
	if err := a.SetOIDCJWKS(readData(t, "oidc-jwks.json")); err != nil {
		t.Fatal(err)
	}
	u, err := a.AuthenticateToken(token)
	if err != nil || u.Name != "alice@example.com" || !reflect.DeepEqual(u.Groups, []string{"oidc:dev", "oidc:ops", "system:authenticated"}) {
		t.Fatalf("got %+v %v", u, err)
	}
	if err := a.SetOIDCJWKS([]byte("{")); err == nil {
		t.Fatal("a broken JWKS was accepted")
	}
}

// BenchmarkAuthenticateTokenRS256 is one bound service-account RS256 verification per call
// (cache off), the per-call cost from Go that issue 7 asks to report.
func BenchmarkAuthenticateTokenRS256(b *testing.B) {
	a := jwtAuth(b, readData(b, "oidc-jwks.json"), &CacheTTLs{})
	token := string(readData(b, "sa-bound.jwt"))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := a.AuthenticateToken(token); err != nil {
			b.Fatal(err)
		}
	}
}
