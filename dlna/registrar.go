package dlna

import "github.com/mediaftpd/mediaftpd/dlna/gena"

// X_MS_MediaReceiverRegistrar:1 is Microsoft's service that Xbox and
// Windows Media Player look for before they browse, and LG webOS too (dms
// PR #86, issues #40, #78). Every device is authorized and validated:
// who may talk to the server is decided by Server.Allow.

// registrarActions is the registrar's action table.
func registrarActions() map[string]*action {
	yes := func(*Server, *call) ([]string, error) { return []string{"1"}, nil }
	return map[string]*action{
		"IsAuthorized": {in: []string{"DeviceID"}, out: []string{"Result"}, optional: []string{"DeviceID"}, run: yes},
		"IsValidated":  {in: []string{"DeviceID"}, out: []string{"Result"}, optional: []string{"DeviceID"}, run: yes},
		"RegisterDevice": {
			in:       []string{"RegistrationReqMsg"},
			out:      []string{"RegistrationRespMsg"},
			optional: []string{"RegistrationReqMsg"},
			run:      func(*Server, *call) ([]string, error) { return []string{""}, nil },
		},
	}
}

// registrarState is the registrar's evented state: nothing ever changes.
func registrarState() []gena.Property {
	return []gena.Property{
		{Name: "AuthorizationGrantedUpdateID", Value: "0"},
		{Name: "AuthorizationDeniedUpdateID", Value: "0"},
		{Name: "ValidationSucceededUpdateID", Value: "0"},
		{Name: "ValidationRevokedUpdateID", Value: "0"},
	}
}
