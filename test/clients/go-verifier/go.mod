module kupe.test/go-verifier

go 1.26.8

require github.com/standard-webhooks/standard-webhooks/libraries v1.3.0
