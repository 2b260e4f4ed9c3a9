//! The Pacemaker tools the `baton` binary answers as when it is invoked
//! under their names: baton-lrmd links each of them to `baton` for its
//! agents, and `baton` dispatches on the name it was run as.

pub const NAMES: [&str; 10] = [
    "crm_attribute",
    "crm_master",
    "crm_node",
    "attrd_updater",
    "crm_resource",
    "crm_mon",
    "crm_verify",
    "cibadmin",
    "stonith_admin",
    "pacemakerd",
];
