//! The data hub's settings from the environment. The one test of this binary changes
//! environment variables, which is safe only while no other thread reads them.

use std::path::PathBuf;

use d2l::linear_classification::DataHub;

#[test]
fn settings_come_from_the_environment() {
    let mirrors = std::env::join_paths(["/srv/mirror-a", "", "/srv/mirror-b"]).unwrap();
    // SAFETY: this test binary has a single test, so no other thread reads the environment.
    unsafe {
        std::env::set_var("D2L_DATA_DIR", "/srv/d2l-cache");
        std::env::set_var("D2L_DATA_MIRROR", &mirrors);
    }
    let hub = DataHub::from_env();
    assert_eq!(hub.cache_dir, PathBuf::from("/srv/d2l-cache"));
    let debian = PathBuf::from("/usr/share/datasets/fashion-mnist");
    assert_eq!(hub.mirrors, [PathBuf::from("/srv/mirror-a"), PathBuf::from("/srv/mirror-b"), debian.clone()]);

    // SAFETY: as above.
    unsafe {
        std::env::remove_var("D2L_DATA_DIR");
        std::env::remove_var("D2L_DATA_MIRROR");
    }
    let hub = DataHub::from_env();
    assert!(hub.cache_dir.ends_with("d2l-rs/data"), "{}", hub.cache_dir.display());
    assert_eq!(hub.mirrors, [debian]);
}
