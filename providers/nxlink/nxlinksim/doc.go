// Package nxlinksim is a simulated NXLink (NXCloud CDP) account: an
// http.Handler that answers the batch create call as the provider document
// describes it (read as providers.md reads it where it leaves things open),
// for the no-config sandbox and for tests.
//
// It is written from the document alone, not from the adapter: its wire
// types, limits, error codes and signature check are its own, so a mistake in
// the adapter (a wrong limit, a wrong key, a wrong signature) is refused here
// instead of being mirrored. Of package nxlink it uses only Config, Name and
// AlgorithmMD5, to hand the sandbox's connection to the gateway.
//
// Where the document names no code, the simulator answers with codes of its
// own (10001–10006 for a whole call, 13001–13006 per record; see Simulator),
// each per-record message starting with the wire field it is about.
package nxlinksim
