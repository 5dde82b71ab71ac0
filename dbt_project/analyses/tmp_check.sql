select {{ normal_upper_tail('x') }} as p, x from (values (0.0),(1.0),(1.6448536),(-1.96),(3.0),(6.0)) as t(x)
