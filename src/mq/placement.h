#pragma once
// Placement of queues and topics on data groups (DESIGN.md "Raft": data groups hold the
// messages). A queue or topic named N lives in data group GroupOfName(N, group_count) and
// only there; the router sends its commands to that group, and each group's state machine
// refuses to create what is not placed on it.
//
// STABLE FOREVER: placement is a pure function of the name and the group count, recomputed
// by every node on every request and never stored. Changing the hash, its seed, the case
// folding or the modulo moves existing queues to groups that do not hold them: every
// running cluster would lose sight of its data. A different placement needs a new
// function and a migration, never an edit of this one.

#include <cstdint>
#include <string_view>

namespace cmq::mq {

// The data group (1..group_count) that holds the queue or topic named name; 1 when
// group_count <= 1. Names compare case-insensitively (NameKey), so "Orders" and "orders"
// are placed together: XXH3-64 (seed 0) of the ASCII-lower-cased name, modulo
// group_count, plus 1.
uint32_t GroupOfName(std::string_view name, uint32_t group_count);

// True if name is placed on group group_id of group_count. With group_count <= 1 one group
// holds everything, whatever its id (single-group nodes and tests use any id).
bool IsPlacedOn(std::string_view name, uint32_t group_id, uint32_t group_count);

}  // namespace cmq::mq
