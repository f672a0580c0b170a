module github.com/exops/exops

go 1.26.0

require (
	github.com/goccy/go-json v0.12.0
	github.com/slack-go/slack v0.35.0
	go.etcd.io/bbolt v1.5.0
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/gorilla/websocket v1.5.3 // indirect
	golang.org/x/sys v0.45.0 // indirect
)
