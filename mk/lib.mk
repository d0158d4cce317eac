# libtcpmig: static library from lib/*.c and lib/rules/*.c, public headers in include/tcpmig/.
LIB_SRCS := $(wildcard lib/*.c lib/rules/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(O)/%.o)
LIB      := $(O)/libtcpmig.a
HDRS     := $(wildcard include/tcpmig/*.h)

.PHONY: lib
lib: $(LIB)

$(LIB): $(LIB_OBJS)
	$(Q)ar rcs $@ $^

$(O)/%.o: %.c $(HDRS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# The rule engine's internal header (lib/rules/rules_int.h).
$(filter $(O)/lib/rules/%,$(LIB_OBJS)): $(wildcard lib/rules/*.h)
