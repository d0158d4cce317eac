# libtcpmig: static library from lib/*.c, public headers in include/tcpmig/.
LIB_SRCS := $(wildcard lib/*.c)
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
