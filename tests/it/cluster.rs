//! Cluster state as modules read it: the embedded Ceph 16.2 snapshot, byte for byte.

use crate::harness::Host;
use crate::harness::guests::KVPROBE;

#[test]
fn get_data_returns_the_snapshot_json() {
    let host = Host::start(&[KVPROBE]);
    let fixture: serde_json::Value = serde_json::from_str(include_str!(
        "../../runtime/fixtures/ceph-pacific-1node/get.osd_map.json"
    ))
    .unwrap();
    let got: serde_json::Value =
        serde_json::from_str(&host.ok(&["kvprobe", "get_data", "osd_map"])).unwrap();
    assert_eq!(got, fixture);
}

#[test]
fn an_unknown_data_name_is_enoent_listing_the_valid_names() {
    let host = Host::start(&[KVPROBE]);
    let err = host.fails(&["kvprobe", "get_data", "nope"], 2);
    assert!(
        err.starts_with("cluster data name `nope` not found: ceph-mgr does not know this name; valid names are: osd_map, osd_map_tree, "),
        "{err}"
    );
    for name in ["pg_summary", "mgr_map", "device <devid>"] {
        assert!(err.contains(name), "{name} missing from: {err}");
    }
}
