fn main() {
    heatcrew_app_lib::run()
}
