module github.com/mediaftpd/mediaftpd

go 1.26.8

require (
	github.com/jlaffaye/ftp v0.2.4 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
