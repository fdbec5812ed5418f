fn main() {
    // The console is embedded from `ui/dist`: a new UI build must rebuild the app.
    println!("cargo:rerun-if-changed=../ui/dist");
    tauri_build::build();
}
