// Package kauthn authenticates Kubernetes API requests the way kube-apiserver does, through
// the kauthn C library (include/kauthn.h, linked statically).
//
// Build the library first: `cargo build -p kauthn-ffi --release` and copy
// target/release/libkauthn_ffi.a to bindings/go/lib/ (bindings/go/run.sh does both).
package kauthn

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: ${SRCDIR}/lib/libkauthn_ffi.a -lpthread -ldl -lm
#include <stdlib.h>
#include <string.h>
#include "kauthn.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Version is the version of the linked C library.
func Version() string { return C.GoString(C.kauthn_version()) }

// Config selects the strategies, with kube-apiserver's flag meanings.
type Config struct {
	// ClientCAPEM is the client CA bundle (--client-ca-file contents).
	ClientCAPEM []byte
	// TokenFileCSV is the static token file (--token-auth-file contents).
	TokenFileCSV []byte
	// BootstrapTokens enables bootstrap tokens; add Secrets with PutBootstrapSecret.
	BootstrapTokens bool
	// APIAudiences is --api-audiences.
	APIAudiences []string
	// Anonymous enables the anonymous user for requests with no credential.
	Anonymous bool
	// AnonymousPaths restricts anonymous requests to these exact paths.
	AnonymousPaths []string
	// Cache sets the token cache lifetimes; nil keeps kube-apiserver's 10s/0s.
	Cache *CacheTTLs
	// ServiceAccountKeyPEMs are --service-account-key-file contents; any enables legacy
	// service-account tokens.
	ServiceAccountKeyPEMs [][]byte
	// ServiceAccountIssuers is --service-account-issuer; it enables bound tokens.
	ServiceAccountIssuers []string
	// OIDC configures one OIDC provider with --oidc-* semantics.
	OIDC *OIDCConfig
	// RequestHeader trusts an authenticating proxy (--requestheader-*).
	RequestHeader *RequestHeaderConfig
}

// OIDCConfig mirrors the --oidc-* flags; empty fields keep kube-apiserver's defaults.
type OIDCConfig struct {
	IssuerURL, ClientID, UsernameClaim, UsernamePrefix, GroupsClaim, GroupsPrefix string
	// SigningAlgs defaults to RS256.
	SigningAlgs []string
	// JWKS is the provider's key set; replace it later with SetOIDCJWKS.
	JWKS []byte
}

// RequestHeaderConfig mirrors the --requestheader-* flags.
type RequestHeaderConfig struct {
	ClientCAPEM                                                                  []byte
	UsernameHeaders, UIDHeaders, GroupHeaders, ExtraHeaderPrefixes, AllowedNames []string
}

// CacheTTLs are the token cache lifetimes; zero disables a side.
type CacheTTLs struct{ Success, Failure time.Duration }

// User is an authenticated identity.
type User struct {
	Name      string
	UID       string
	Groups    []string
	Extra     map[string][]string
	Audiences []string
}

// ErrUnauthenticated means no configured strategy recognised the credential (or there
// was none and anonymous is off). A server answers 401.
var ErrUnauthenticated = errors.New("kauthn: unauthenticated")

// RejectedError means a strategy recognised the credential and rejected it. A server
// answers 401 and logs Reason; the client sees only "Unauthorized".
type RejectedError struct{ Reason string }

func (e *RejectedError) Error() string { return "kauthn: rejected: " + e.Reason }

// CallError is a failure of the C library call itself (bad input, internal error).
type CallError struct {
	Code    uint32
	Message string
}

func (e *CallError) Error() string { return fmt.Sprintf("kauthn: %s (code %d)", e.Message, e.Code) }

func callError(code C.kauthn_result) error {
	if code == C.KAUTHN_RESULT_OK {
		return nil
	}
	var buf [256]C.uint8_t
	var n C.size_t
	C.kauthn_result_message(code, &buf[0], C.size_t(len(buf)), &n)
	return &CallError{Code: uint32(code), Message: C.GoStringN((*C.char)(unsafe.Pointer(&buf[0])), C.int(n))}
}

// Authenticator is safe for concurrent use. Close it when done; a finalizer frees it
// otherwise.
type Authenticator struct {
	mu      sync.RWMutex // guards ptr against Close during calls
	ptr     *C.kauthn_authenticator
	results sync.Pool
}

// handle is a reusable C result handle plus a C buffer for marshalling inputs (Go
// pointers may not be stored in C memory, so inputs are copied here).
type handle struct {
	r   *C.kauthn_auth_result
	buf unsafe.Pointer
	cap int
}

const marshalCap = 128 * 1024

func newHandle() *handle {
	h := &handle{cap: marshalCap}
	if C.kauthn_auth_result_new(&h.r) != C.KAUTHN_RESULT_OK {
		return nil
	}
	h.buf = C.malloc(C.size_t(marshalCap))
	runtime.SetFinalizer(h, func(h *handle) {
		C.kauthn_auth_result_free(h.r)
		C.free(h.buf)
	})
	return h
}

// NewAuthenticator builds the kube-apiserver authentication chain for cfg.
func NewAuthenticator(cfg Config) (*Authenticator, error) {
	var c *C.kauthn_config
	if code := C.kauthn_config_new(&c); code != C.KAUTHN_RESULT_OK {
		return nil, callError(code)
	}
	defer C.kauthn_config_free(c)
	setBytes := func(f func(*C.kauthn_config, *C.uint8_t, C.size_t) C.kauthn_result, b []byte) error {
		p := C.CBytes(b)
		defer C.free(p)
		return callError(f(c, (*C.uint8_t)(p), C.size_t(len(b))))
	}
	var err error
	if cfg.ClientCAPEM != nil {
		err = firstErr(err, setBytes(func(c *C.kauthn_config, p *C.uint8_t, n C.size_t) C.kauthn_result {
			return C.kauthn_config_set_client_ca_pem(c, p, n)
		}, cfg.ClientCAPEM))
	}
	if cfg.TokenFileCSV != nil {
		err = firstErr(err, setBytes(func(c *C.kauthn_config, p *C.uint8_t, n C.size_t) C.kauthn_result {
			return C.kauthn_config_set_token_file_csv(c, p, n)
		}, cfg.TokenFileCSV))
	}
	for _, aud := range cfg.APIAudiences {
		err = firstErr(err, setBytes(func(c *C.kauthn_config, p *C.uint8_t, n C.size_t) C.kauthn_result {
			return C.kauthn_config_add_api_audience(c, p, n)
		}, []byte(aud)))
	}
	for _, path := range cfg.AnonymousPaths {
		err = firstErr(err, setBytes(func(c *C.kauthn_config, p *C.uint8_t, n C.size_t) C.kauthn_result {
			return C.kauthn_config_add_anonymous_path(c, p, n)
		}, []byte(path)))
	}
	for _, pem := range cfg.ServiceAccountKeyPEMs {
		err = firstErr(err, setBytes(func(c *C.kauthn_config, p *C.uint8_t, n C.size_t) C.kauthn_result {
			return C.kauthn_config_add_service_account_key_pem(c, p, n)
		}, pem))
	}
	for _, iss := range cfg.ServiceAccountIssuers {
		err = firstErr(err, setBytes(func(c *C.kauthn_config, p *C.uint8_t, n C.size_t) C.kauthn_result {
			return C.kauthn_config_add_service_account_issuer(c, p, n)
		}, []byte(iss)))
	}
	var frees []unsafe.Pointer
	defer func() {
		for _, p := range frees {
			C.free(p)
		}
	}()
	// opt copies s into C memory; "" stays absent (NULL) so the library keeps its default.
	opt := func(s string) C.kauthn_bytes {
		if s == "" {
			return C.kauthn_bytes{}
		}
		p := C.CBytes([]byte(s))
		frees = append(frees, p)
		return C.kauthn_bytes{data: (*C.uint8_t)(p), len: C.size_t(len(s))}
	}
	if o := cfg.OIDC; o != nil {
		settings := C.kauthn_oidc_settings{
			issuer_url: opt(o.IssuerURL), client_id: opt(o.ClientID),
			username_claim: opt(o.UsernameClaim), username_prefix: opt(o.UsernamePrefix),
			groups_claim: opt(o.GroupsClaim), groups_prefix: opt(o.GroupsPrefix),
			signing_algs: opt(strings.Join(o.SigningAlgs, ",")),
		}
		err = firstErr(err, callError(C.kauthn_config_set_oidc(c, &settings)))
		if o.JWKS != nil {
			err = firstErr(err, setBytes(func(c *C.kauthn_config, p *C.uint8_t, n C.size_t) C.kauthn_result {
				return C.kauthn_config_set_oidc_jwks(c, p, n)
			}, o.JWKS))
		}
	}
	if r := cfg.RequestHeader; r != nil {
		settings := C.kauthn_requestheader_settings{
			client_ca_pem:         opt(string(r.ClientCAPEM)),
			username_headers:      opt(strings.Join(r.UsernameHeaders, ",")),
			uid_headers:           opt(strings.Join(r.UIDHeaders, ",")),
			group_headers:         opt(strings.Join(r.GroupHeaders, ",")),
			extra_header_prefixes: opt(strings.Join(r.ExtraHeaderPrefixes, ",")),
			allowed_names:         opt(strings.Join(r.AllowedNames, ",")),
		}
		err = firstErr(err, callError(C.kauthn_config_set_requestheader(c, &settings)))
	}
	if err != nil {
		return nil, err
	}
	C.kauthn_config_set_bootstrap_tokens(c, C.bool(cfg.BootstrapTokens))
	C.kauthn_config_set_anonymous(c, C.bool(cfg.Anonymous))
	if cfg.Cache != nil {
		C.kauthn_config_set_cache_ttls(c, C.int64_t(cfg.Cache.Success/time.Second), C.int64_t(cfg.Cache.Failure/time.Second))
	}
	a := &Authenticator{}
	if code := C.kauthn_authenticator_new(c, &a.ptr); code != C.KAUTHN_RESULT_OK {
		var buf [1024]C.uint8_t
		var n C.size_t
		C.kauthn_config_error_message(c, &buf[0], C.size_t(len(buf)), &n)
		return nil, fmt.Errorf("kauthn: invalid configuration: %s", C.GoStringN((*C.char)(unsafe.Pointer(&buf[0])), C.int(n)))
	}
	a.results.New = func() any { return newHandle() }
	runtime.SetFinalizer(a, (*Authenticator).Close)
	return a, nil
}

// Close frees the authenticator. It is idempotent; calls after Close fail.
func (a *Authenticator) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ptr != nil {
		C.kauthn_authenticator_free(a.ptr)
		a.ptr = nil
	}
	runtime.SetFinalizer(a, nil)
	return nil
}

var errClosed = errors.New("kauthn: authenticator is closed")

// BootstrapSecret is the data of a bootstrap token Secret; nil fields are absent.
type BootstrapSecret struct {
	TokenID, TokenSecret, Expiration, UsageBootstrapAuthentication, AuthExtraGroups []byte
}

// PutBootstrapSecret adds or replaces the Secret kube-system/bootstrap-token-<TokenID>.
func (a *Authenticator) PutBootstrapSecret(s BootstrapSecret) error {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.ptr == nil {
		return errClosed
	}
	var cs C.kauthn_bootstrap_secret
	var frees []unsafe.Pointer
	field := func(b []byte) C.kauthn_bytes {
		if b == nil {
			return C.kauthn_bytes{}
		}
		p := C.CBytes(b)
		frees = append(frees, p)
		return C.kauthn_bytes{data: (*C.uint8_t)(p), len: C.size_t(len(b))}
	}
	cs.token_id = field(s.TokenID)
	cs.token_secret = field(s.TokenSecret)
	cs.expiration = field(s.Expiration)
	cs.usage_bootstrap_authentication = field(s.UsageBootstrapAuthentication)
	cs.auth_extra_groups = field(s.AuthExtraGroups)
	code := C.kauthn_authenticator_put_bootstrap_secret(a.ptr, &cs)
	for _, p := range frees {
		C.free(p)
	}
	return callError(code)
}

// SetOIDCJWKS replaces the OIDC provider's keys without rebuilding the authenticator. On
// error the previous keys stay.
func (a *Authenticator) SetOIDCJWKS(jwks []byte) error {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.ptr == nil {
		return errClosed
	}
	p := C.CBytes(jwks)
	defer C.free(p)
	return callError(C.kauthn_authenticator_set_oidc_jwks(a.ptr, (*C.uint8_t)(p), C.size_t(len(jwks))))
}

// RemoveBootstrapSecret removes the Secret of tokenID, if present.
func (a *Authenticator) RemoveBootstrapSecret(tokenID string) error {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.ptr == nil {
		return errClosed
	}
	p := C.CBytes([]byte(tokenID))
	defer C.free(p)
	return callError(C.kauthn_authenticator_remove_bootstrap_secret(a.ptr, (*C.uint8_t)(p), C.size_t(len(tokenID))))
}

// writer copies inputs into a handle's C buffer.
type writer struct {
	h   *handle
	off int
}

func (w *writer) bytes(b []byte) (C.kauthn_bytes, error) {
	if w.off+len(b) > w.h.cap {
		return C.kauthn_bytes{}, &CallError{Code: uint32(C.KAUTHN_RESULT_INPUT_TOO_LARGE), Message: "input too large"}
	}
	p := unsafe.Add(w.h.buf, w.off)
	if len(b) > 0 {
		C.memcpy(p, unsafe.Pointer(&b[0]), C.size_t(len(b)))
	}
	w.off += len(b)
	return C.kauthn_bytes{data: (*C.uint8_t)(p), len: C.size_t(len(b))}, nil
}

func (w *writer) str(s string) (C.kauthn_bytes, error) { return w.bytes([]byte(s)) }

// AuthenticateToken authenticates a bearer token now.
func (a *Authenticator) AuthenticateToken(token string) (*User, error) {
	return a.authenticate(func(h *handle, now C.int64_t) C.kauthn_result {
		w := writer{h: h}
		b, err := w.str(token)
		if err != nil {
			return C.KAUTHN_RESULT_INPUT_TOO_LARGE
		}
		return C.kauthn_authenticator_authenticate_token(a.ptr, b.data, b.len, now, h.r)
	})
}

// AuthenticateRequest authenticates an incoming request: its TLS client certificate
// chain, its Authorization header, and (with anonymous on) its path.
func (a *Authenticator) AuthenticateRequest(r *http.Request) (*User, error) {
	return a.authenticate(func(h *handle, now C.int64_t) C.kauthn_result {
		w := writer{h: h}
		var headers []C.kauthn_header
		var chain []C.kauthn_bytes
		for name, values := range r.Header {
			for _, v := range values {
				n, err1 := w.str(name)
				val, err2 := w.str(v)
				if err1 != nil || err2 != nil {
					return C.KAUTHN_RESULT_INPUT_TOO_LARGE
				}
				headers = append(headers, C.kauthn_header{name: n, value: val})
			}
		}
		if r.TLS != nil {
			for _, c := range r.TLS.PeerCertificates {
				b, err := w.bytes(c.Raw)
				if err != nil {
					return C.KAUTHN_RESULT_INPUT_TOO_LARGE
				}
				chain = append(chain, b)
			}
		}
		path, err := w.str(r.URL.Path)
		if err != nil {
			return C.KAUTHN_RESULT_INPUT_TOO_LARGE
		}
		// The header and chain arrays hold only C pointers, so they are copied into C
		// memory as well.
		hp, err1 := w.array(unsafe.Pointer(sliceData(headers)), len(headers)*int(unsafe.Sizeof(C.kauthn_header{})))
		cp, err2 := w.array(unsafe.Pointer(sliceData(chain)), len(chain)*int(unsafe.Sizeof(C.kauthn_bytes{})))
		if err1 != nil || err2 != nil {
			return C.KAUTHN_RESULT_INPUT_TOO_LARGE
		}
		return C.kauthn_authenticator_authenticate_request(a.ptr,
			(*C.kauthn_header)(hp), C.size_t(len(headers)),
			(*C.kauthn_bytes)(cp), C.size_t(len(chain)),
			path.data, path.len, now, h.r)
	})
}

func firstErr(err, next error) error {
	if err != nil {
		return err
	}
	return next
}

func sliceData[T any](s []T) *T {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

func (w *writer) array(p unsafe.Pointer, size int) (unsafe.Pointer, error) {
	if size == 0 {
		return nil, nil
	}
	// Keep C structs aligned.
	w.off = (w.off + 7) &^ 7
	if w.off+size > w.h.cap {
		return nil, errors.New("too large")
	}
	dst := unsafe.Add(w.h.buf, w.off)
	C.memcpy(dst, p, C.size_t(size))
	w.off += size
	return dst, nil
}

func (a *Authenticator) authenticate(call func(*handle, C.int64_t) C.kauthn_result) (*User, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.ptr == nil {
		return nil, errClosed
	}
	h, _ := a.results.Get().(*handle)
	if h == nil {
		return nil, &CallError{Message: "cannot allocate a result handle"}
	}
	defer a.results.Put(h)
	code := call(h, C.int64_t(time.Now().Unix()))
	runtime.KeepAlive(a)
	if code != C.KAUTHN_RESULT_OK {
		return nil, callError(code)
	}
	switch C.kauthn_auth_result_status(h.r) {
	case C.KAUTHN_STATUS_AUTHENTICATED:
		return readUser(h.r), nil
	case C.KAUTHN_STATUS_REJECTED:
		return nil, &RejectedError{Reason: message(h.r)}
	default:
		return nil, ErrUnauthenticated
	}
}

func view(f func(**C.uint8_t, *C.size_t) C.kauthn_result) string {
	var p *C.uint8_t
	var n C.size_t
	if f(&p, &n) != C.KAUTHN_RESULT_OK || n == 0 {
		return ""
	}
	return C.GoStringN((*C.char)(unsafe.Pointer(p)), C.int(n))
}

func readUser(r *C.kauthn_auth_result) *User {
	u := &User{
		Name: view(func(p **C.uint8_t, n *C.size_t) C.kauthn_result { return C.kauthn_auth_result_name(r, p, n) }),
		UID:  view(func(p **C.uint8_t, n *C.size_t) C.kauthn_result { return C.kauthn_auth_result_uid(r, p, n) }),
	}
	for i := C.size_t(0); i < C.kauthn_auth_result_groups_len(r); i++ {
		u.Groups = append(u.Groups, view(func(p **C.uint8_t, n *C.size_t) C.kauthn_result { return C.kauthn_auth_result_group(r, i, p, n) }))
	}
	if k := C.kauthn_auth_result_extra_len(r); k > 0 {
		u.Extra = make(map[string][]string, int(k))
		for i := C.size_t(0); i < k; i++ {
			key := view(func(p **C.uint8_t, n *C.size_t) C.kauthn_result { return C.kauthn_auth_result_extra_key(r, i, p, n) })
			values := []string{}
			for j := C.size_t(0); j < C.kauthn_auth_result_extra_values_len(r, i); j++ {
				values = append(values, view(func(p **C.uint8_t, n *C.size_t) C.kauthn_result {
					return C.kauthn_auth_result_extra_value(r, i, j, p, n)
				}))
			}
			u.Extra[key] = values
		}
	}
	for i := C.size_t(0); i < C.kauthn_auth_result_audiences_len(r); i++ {
		u.Audiences = append(u.Audiences, view(func(p **C.uint8_t, n *C.size_t) C.kauthn_result { return C.kauthn_auth_result_audience(r, i, p, n) }))
	}
	return u
}

func message(r *C.kauthn_auth_result) string {
	var buf [512]C.uint8_t
	var n C.size_t
	if C.kauthn_auth_result_message(r, &buf[0], C.size_t(len(buf)), &n) != C.KAUTHN_RESULT_OK {
		return ""
	}
	return C.GoStringN((*C.char)(unsafe.Pointer(&buf[0])), C.int(n))
}
