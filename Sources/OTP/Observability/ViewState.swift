/// The view socket's state, stored inline in the node (`Node.startView`).
///
/// Thread: loop thread only.
struct ViewState {
    /// The view socket being served.
    var server: ViewServer?
    /// A view socket whose handles are closing.
    var closing: ViewServer?
}
