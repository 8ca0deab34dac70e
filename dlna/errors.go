package dlna

import (
	"errors"
	"strconv"
)

// Errors returned by the Server.
var (
	// ErrServerClosed is returned by Serve after Shutdown or Close.
	ErrServerClosed = errors.New("dlna: server closed")
)

// upnpError is an error an action answers with: a UPnP error code and its
// description, sent as a SOAP fault with HTTP status 500 (UPnP Device
// Architecture 1.1, 3.2.2). Actions return them; the SOAP layer turns any
// other error into errActionFailed, logging it.
type upnpError struct {
	code int
	desc string
}

func (e *upnpError) Error() string {
	return "UPnP error " + strconv.Itoa(e.code) + ": " + e.desc
}

// The UPnP errors actions answer with. Callers compare with errors.Is.
var (
	// errInvalidAction: no action by that name at this service, or no
	// action could be read from the request (UDA 3.2.2). Write actions
	// (CreateObject, DestroyObject, ...) get it too: the server is
	// read-only, and its SCPDs do not list them.
	errInvalidAction = &upnpError{401, "Invalid Action"}
	// errInvalidArgs: a required argument is missing or has a bad value.
	errInvalidArgs = &upnpError{402, "Invalid Args"}
	// errActionFailed: the action failed for a reason of the server's.
	errActionFailed = &upnpError{501, "Action Failed"}
	// errNoSuchObject: ContentDirectory 701, the object ID names nothing.
	errNoSuchObject = &upnpError{701, "No such object"}
	// errInvalidConnection: ConnectionManager 706, no such connection.
	errInvalidConnection = &upnpError{706, "Invalid connection reference"}
	// errBadSearch: ContentDirectory 708, unsupported or invalid search criteria.
	errBadSearch = &upnpError{708, "Unsupported or invalid search criteria"}
	// errBadSort: ContentDirectory 709, unsupported or invalid sort criteria.
	errBadSort = &upnpError{709, "Unsupported or invalid sort criteria"}
	// errNoSuchContainer: ContentDirectory 710, a Search's ContainerID is
	// not a container.
	errNoSuchContainer = &upnpError{710, "No such container"}
	// errCannotProcess: ContentDirectory 720, the request cannot be
	// processed (as when a share went offline meanwhile).
	errCannotProcess = &upnpError{720, "Cannot process the request"}
)
