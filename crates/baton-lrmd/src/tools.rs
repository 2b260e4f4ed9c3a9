//! baton's stand-ins for the Pacemaker tools that agents call while they
//! run (`crm_attribute --promotion`, `crm_master`, `crm_node -n`,
//! `attrd_updater`, `pacemakerd -$`, `crm_mon`, `cibadmin -Q`, … as
//! `baton_proto::tools::NAMES` lists them): links named like those tools
//! to the `baton` binary installed beside this daemon, in a directory of lrmd's own that every agent gets first in
//! `HA_SBIN_DIR` and `PATH`, so they win even where Pacemaker's own tools
//! are installed.

use std::path::{Path, PathBuf};

/// Links every tool in `<state_dir>/tools` to the `baton` beside this
/// executable; the directory, or why there is none.
pub fn install(state_dir: &Path) -> Result<PathBuf, String> {
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot tell where baton-lrmd is installed: {e}"))?;
    let baton = exe.with_file_name("baton");
    if !baton.is_file() {
        return Err(format!(
            "{} is missing; install it beside baton-lrmd",
            baton.display()
        ));
    }
    let dir = state_dir.join("tools");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for tool in baton_proto::tools::NAMES {
        let link = dir.join(tool);
        let staged = dir.join(format!(".{tool}.new"));
        let _ = std::fs::remove_file(&staged);
        std::os::unix::fs::symlink(&baton, &staged)
            .and_then(|()| std::fs::rename(&staged, &link))
            .map_err(|e| format!("cannot link {} to {}: {e}", link.display(), baton.display()))?;
    }
    Ok(dir)
}
