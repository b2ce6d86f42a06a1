//! The log: record format, recovery, and the NOR-flash medium. (Being built.)
