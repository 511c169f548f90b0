//! Which address learners should use: the room listens on every network of the machine, and
//! prints the one a laptop on the same network reaches.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};

/// `http://192.168.1.23:4002`: the address of this machine on its local network when the room
/// listens on all of them, else the address it listens on.
pub(crate) fn reachable_url(bound: SocketAddr) -> String {
    let ip = if bound.ip().is_unspecified() {
        local_ip().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
    } else {
        bound.ip()
    };
    format!("http://{}", SocketAddr::new(ip, bound.port()))
}

/// What listening on `ip` means, in words.
pub(crate) fn describe(ip: IpAddr) -> &'static str {
    if ip.is_unspecified() {
        "every network of this machine"
    } else if ip.is_loopback() {
        "this machine only"
    } else {
        "that network only"
    }
}

/// The machine's address on the network its default route leaves by. Connecting a UDP socket
/// sends nothing: it only asks the system which source address it would use (192.0.2.1 is
/// TEST-NET-1, never a real host).
fn local_ip() -> Option<IpAddr> {
    let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    socket.connect((Ipv4Addr::new(192, 0, 2, 1), 9)).ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified()).then_some(ip)
}
