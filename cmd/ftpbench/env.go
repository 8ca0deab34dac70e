package main

import (
	"context"

	"github.com/mediaftpd/mediaftpd/internal/benchreport"
)

// machine describes where the bench ran, for the report.
type machine struct {
	benchreport.Machine
	Vsftpd string
}

func describeMachine(ctx context.Context, moduleRoot, vsftpdBin string) machine {
	m := machine{Machine: benchreport.DescribeMachine(ctx, moduleRoot)}
	if vsftpdBin != "" {
		m.Vsftpd = vsftpdVersion(vsftpdBin)
	}
	return m
}
