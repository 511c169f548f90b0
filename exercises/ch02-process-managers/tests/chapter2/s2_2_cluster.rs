//! 2.2: cluster mode, several instances serving one port.

use std::collections::BTreeSet;

use ch02_process_managers::cluster::instance_count;
use ch02_process_managers::config::Instances;

use crate::support;

#[test]
fn instances_are_counted_and_max_means_one_per_core() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(
        instance_count(Instances::Count(3)),
        3,
        "instances = 3 means three. See 2.2."
    );
    assert_eq!(
        instance_count(Instances::Max),
        cores,
        "instances = \"max\" means one per core ({cores} here). See 2.2."
    );
}

#[tokio::test]
async fn two_instances_serve_one_port() {
    let mut minipm = support::start(&support::worker_app(
        "instances = 2\nport = 0\nready_line = \"ready addr=\"",
    ));
    let addr = minipm.cluster_addr().await;
    let mut seen = BTreeSet::new();
    // New connections, one after another, until both instances have answered (at most 200).
    for _ in 0..200 {
        let who = minipm.who(addr).await;
        seen.insert(who.split(' ').next().unwrap_or("").to_owned());
        if seen.len() == 2 {
            break;
        }
    }
    assert_eq!(
        seen.len(),
        2,
        "200 requests to {addr} were all answered by {seen:?}: both instances should take \
         connections from the one listening socket minipm hands them. See 2.2."
    );
}
