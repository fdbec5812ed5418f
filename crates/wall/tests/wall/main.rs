//! The wall on a real GPU adapter (Mesa lavapipe where there is no GPU): shader validation,
//! golden colours, layout placement, overlays, and the simulator's cameras end to end.

mod golden;
mod shaders;
mod show_window;
mod sim_to_wall;
mod snapshot_binary;
