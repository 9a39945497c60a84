/// The OpenAPI 3.1 document of the management routes mounted at `mount` (`"/v1"`; `""`
/// at the root), with every refusal the authentication in front of them answers.
pub fn openapi(mount: &str) -> String {
    let _ = mount;
    todo!()
}
