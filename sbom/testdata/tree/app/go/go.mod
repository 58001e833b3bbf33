module example.com/fixture/svc

go 1.22

require (
	github.com/google/go-cmp v0.7.0
	github.com/pkg/errors v0.9.1
)
