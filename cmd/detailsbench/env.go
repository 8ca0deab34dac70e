package main

import (
	"context"

	"github.com/mediaftpd/mediaftpd/internal/benchreport"
)

// machine describes where the bench ran, for the report.
type machine struct {
	benchreport.Machine
	Disk string // the file system and block device of the bench's folder
}

func describeMachine(ctx context.Context, moduleRoot, dir string) machine {
	return machine{Machine: benchreport.DescribeMachine(ctx, moduleRoot), Disk: benchreport.DescribeDisk(dir)}
}
