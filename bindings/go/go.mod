module kauthn.dev/kauthn

go 1.19
