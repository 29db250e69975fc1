#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

func Foundation_sin(_ x: Double) -> Double { sin(x) }
func Foundation_cos(_ x: Double) -> Double { cos(x) }
func Foundation_exp(_ x: Double) -> Double { exp(x) }
func Foundation_log(_ x: Double) -> Double { log(x) }
